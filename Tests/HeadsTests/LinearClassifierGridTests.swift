import Heads
import SafeTensors
import XCTest
import Support

final class LinearClassifierGridTests: XCTestCase {
    func testGridGradientsEqualEachHeadsOwnGradients() throws {
        let (n, d, k) = (9, 6, 3)
        var grid = try LinearClassifierGrid(dim: d, classes: k, learningRates: [0.1, 0.01, 0.001, 1], seed: 0)
        grid.weight = randomArray(grid.weight.count, std: 0.5, seed: 31)
        grid.bias = randomArray(grid.bias.count, std: 0.5, seed: 32)
        let x = randomArray(n * d, seed: 33)
        let labels = [0, 1, 2, 2, 1, 0, 0, 1, 2]
        let g = try grid.lossesAndGradients(features: x, labels: labels)
        var worst: Float = 0
        for h in 0..<grid.heads {
            let single = try grid.head(at: h).lossAndGradients(features: x, labels: labels)
            XCTAssertEqual(g.losses[h], single.loss, accuracy: 1e-6)
            worst = max(worst, maxAbsDiff(Array(g.weight[(h * k * d)..<((h + 1) * k * d)]), single.weight))
            worst = max(worst, maxAbsDiff(Array(g.bias[(h * k)..<((h + 1) * k)]), single.bias))
        }
        print("grid vs per-head gradients: max abs difference \(worst)")
        XCTAssertLessThan(worst, 1e-6)
        // And the grid's own gradient against finite differences, for one head.
        let numeric = try finiteDifferences(grid.weight) { w in
            var probe = grid; probe.weight = w
            return try probe.lossesAndGradients(features: x, labels: labels).losses.reduce(0, +)
        }
        assertGradient(g.weight, numeric, tolerance: 3e-3, "grid dW (sum of head losses)")
    }

    func testGridTrainingEqualsTrainingEachHeadAlone() throws {
        let (n, d, k) = (16, 5, 3)
        let rates: [Float] = [0.5, 0.05]
        var grid = try LinearClassifierGrid(dim: d, classes: k, learningRates: rates, seed: 9)
        var singles = try rates.map { _ in try LinearClassifier(dim: d, classes: k, seed: 9) }
        XCTAssertEqual(try grid.head(at: 1).weight, singles[1].weight)
        var gridOptimizer = SGD(momentum: 0.9)
        var optimizers = rates.map { _ in SGD(momentum: 0.9) }
        let schedule = LearningRateSchedule(totalSteps: 4)
        for step in 0..<4 {
            let x = randomArray(n * d, seed: UInt64(100 + step))
            let labels = (0..<n).map { ($0 * 7 + step) % k }
            try grid.trainStep(features: x, labels: labels, optimizer: &gridOptimizer, learningRateFactor: schedule.factor(at: step))
            for h in 0..<rates.count {
                try singles[h].trainStep(features: x, labels: labels, optimizer: &optimizers[h],
                                         learningRate: schedule.learningRate(base: rates[h], step: step))
            }
        }
        for h in 0..<rates.count {
            XCTAssertLessThan(maxAbsDiff(try grid.head(at: h).weight, singles[h].weight), 1e-6)
            XCTAssertLessThan(maxAbsDiff(try grid.head(at: h).bias, singles[h].bias), 1e-6)
        }
        XCTAssertEqual(try grid.head(at: 0).metadata.extra["learning_rate"], "0.5")
        XCTAssertThrowsError(try grid.head(at: 2))
    }

    /// Meta's protocol on committed Gaussian-cluster features: the best of the 13 heads must come
    /// within 1 point of scikit-learn's LogisticRegression with C tuned on the same split.
    func testGridMatchesTunedLogisticRegressionOnProbeFixture() throws {
        let file = try Fixtures.file("probe.safetensors")
        let trainX = try file.floats("train.features"), trainY = try file.ints("train.labels").map { Int($0) }
        let valX = try file.floats("val.features"), valY = try file.ints("val.labels").map { Int($0) }
        let reference = try XCTUnwrap(Float(file.metadata["sklearn_val_accuracy"] ?? ""))
        let (d, k, n) = (64, 10, trainY.count)
        let batch = 128, epochs = 12
        let stepsPerEpoch = n / batch  // drop the last partial batch, as Meta's loader does
        var grid = try LinearClassifierGrid(dim: d, classes: k, learningRates: LinearClassifierGrid.metaLearningRates(batchSize: batch))
        var optimizer = SGD(momentum: 0.9)
        let schedule = LearningRateSchedule(totalSteps: epochs * stepsPerEpoch)
        var random = SeededRandom(seed: 0)
        var step = 0
        var xb = [Float](repeating: 0, count: batch * d), yb = [Int](repeating: 0, count: batch)
        for _ in 0..<epochs {
            let order = random.permutation(n)
            for s in 0..<stepsPerEpoch {
                for (j, i) in order[(s * batch)..<((s + 1) * batch)].enumerated() {
                    xb.replaceSubrange((j * d)..<((j + 1) * d), with: trainX[(i * d)..<((i + 1) * d)])
                    yb[j] = trainY[i]
                }
                try grid.trainStep(features: xb, labels: yb, optimizer: &optimizer, learningRateFactor: schedule.factor(at: step))
                step += 1
            }
        }
        let accuracies = try grid.accuracies(features: valX, labels: valY)
        let best = accuracies.max() ?? 0
        let bestRate = grid.learningRates[accuracies.firstIndex(of: best) ?? 0]
        print("probe: sklearn LogisticRegression val top-1 \(reference) (C=\(file.metadata["sklearn_C"] ?? "?")); grid best \(best) at lr \(bestRate); all: \(accuracies.map { String(format: "%.4f", $0) })")
        XCTAssertGreaterThanOrEqual(best, reference - 0.01)
        XCTAssertLessThan(accuracies[0], best, "the smallest learning rate should not be best in so few steps")
    }
}
