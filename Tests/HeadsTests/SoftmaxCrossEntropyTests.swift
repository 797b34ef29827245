import Heads
import XCTest
import Support

final class SoftmaxCrossEntropyTests: XCTestCase {
    func testLossMatchesDefinitionAndIsStableForLargeLogits() throws {
        let logits: [Float] = [1, 2, 3, 1000, 0, -1000]
        let (loss, _) = try SoftmaxCrossEntropy().lossAndGradient(logits: logits, labels: [2, 0], classes: 3)
        let first = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3
        XCTAssertEqual(Double(loss), (first + 0) / 2, accuracy: 1e-5)
        XCTAssertTrue(loss.isFinite)
    }

    func testGradientMatchesFiniteDifferences() throws {
        let (n, k) = (6, 5)
        let logits = randomArray(n * k, std: 2, seed: 11)
        let labels = [0, 4, 2, 2, 1, 3]
        let ce = SoftmaxCrossEntropy()
        let analytic = try ce.lossAndGradient(logits: logits, labels: labels, classes: k).gradient
        let numeric = try finiteDifferences(logits, step: 1e-2) { try ce.loss(logits: $0, labels: labels, classes: k) }
        assertGradient(analytic, numeric, tolerance: 2e-3, "cross-entropy d/dlogits")
    }

    func testIgnoredRowsContributeNothing() throws {
        let k = 4
        let logits = randomArray(5 * k, std: 2, seed: 12)
        let labels: [UInt8] = [1, 255, 3, 255, 0]
        let ce = SoftmaxCrossEntropy(ignoreIndex: 255)
        let (loss, gradient) = try ce.lossAndGradient(logits: logits, labels: labels, classes: k)
        // Equal to the loss over the kept rows alone.
        let kept = [0, 2, 4].flatMap { Array(logits[($0 * k)..<(($0 + 1) * k)]) }
        XCTAssertEqual(loss, try SoftmaxCrossEntropy().loss(logits: kept, labels: [1, 3, 0], classes: k), accuracy: 1e-6)
        XCTAssertEqual(Array(gradient[k..<(2 * k)]), [Float](repeating: 0, count: k))
        XCTAssertEqual(Array(gradient[(3 * k)..<(4 * k)]), [Float](repeating: 0, count: k))
        let numeric = try finiteDifferences(logits) { try ce.loss(logits: $0, labels: labels, classes: k) }
        assertGradient(gradient, numeric, tolerance: 2e-3, "cross-entropy with ignored rows")
    }

    func testAllIgnoredGivesZeroLossAndGradient() throws {
        let (loss, gradient) = try SoftmaxCrossEntropy(ignoreIndex: 255)
            .lossAndGradient(logits: randomArray(6, seed: 1), labels: [UInt8(255), 255], classes: 3)
        XCTAssertEqual(loss, 0)
        XCTAssertEqual(gradient, [Float](repeating: 0, count: 6))
    }

    func testBadLabelsAndSizesThrow() {
        XCTAssertThrowsError(try SoftmaxCrossEntropy().loss(logits: [0, 0, 0], labels: [3], classes: 3)) {
            XCTAssertEqual($0 as? HeadError, .labelOutOfRange(label: 3, classes: 3, position: 0))
        }
        XCTAssertThrowsError(try SoftmaxCrossEntropy().loss(logits: [0, 0, 0], labels: [-1], classes: 3))
        XCTAssertThrowsError(try SoftmaxCrossEntropy().loss(logits: [0, 0], labels: [0], classes: 3))
    }
}

/// The many-class path (segmentation: 150 classes) against a double-precision reference.
final class ManyClassSoftmaxTests: XCTestCase {
    func testLossAndGradientWith150ClassesMatchDoublePrecision() throws {
        var random = SeededRandom(seed: 11)
        let (rows, classes) = (7, 150)
        let logits = random.normals(count: rows * classes, std: 3)
        let labels = (0..<rows).map { ($0 * 37) % classes }
        let (loss, gradient) = try SoftmaxCrossEntropy().lossAndGradient(logits: logits, labels: labels, classes: classes)
        var expectedLoss = 0.0
        for r in 0..<rows {
            let row = logits[(r * classes)..<((r + 1) * classes)].map(Double.init)
            let m = row.max()!
            let sum = row.map { exp($0 - m) }.reduce(0, +)
            expectedLoss += log(sum) + m - row[labels[r]]
            for c in 0..<classes {
                let p = exp(row[c] - m) / sum - (c == labels[r] ? 1 : 0)
                XCTAssertEqual(Double(gradient[r * classes + c]), p / Double(rows), accuracy: 1e-6)
            }
        }
        XCTAssertEqual(Double(loss), expectedLoss / Double(rows), accuracy: 1e-5)
    }
}
