import Heads
import XCTest
import Support

final class LinearClassifierTests: XCTestCase {
    func testInitialisationIsSeededNormalWithStd001AndZeroBias() throws {
        let a = try LinearClassifier(dim: 64, classes: 50, seed: 5)
        XCTAssertEqual(a.weight, try LinearClassifier(dim: 64, classes: 50, seed: 5).weight)
        XCTAssertNotEqual(a.weight, try LinearClassifier(dim: 64, classes: 50, seed: 6).weight)
        XCTAssertEqual(a.bias, [Float](repeating: 0, count: 50))
        let std = (a.weight.map { $0 * $0 }.reduce(0, +) / Float(a.weight.count)).squareRoot()
        XCTAssertEqual(std, 0.01, accuracy: 0.0005)
    }

    func testLogitsProbabilitiesAndPredictions() throws {
        let head = try LinearClassifier(weight: [1, 0, 0, 1, -1, -1], bias: [0, 0.5, 0], dim: 2, classes: 3)
        let x: [Float] = [2, 1, 0, 0, -3, 1]
        XCTAssertEqual(try head.logits(features: x, count: 3), [2, 1.5, -3, 0, 0.5, 0, -3, 1.5, 2])
        XCTAssertEqual(try head.predict(features: x, count: 3), [0, 1, 2])
        let p = try head.probabilities(features: x, count: 3)
        for i in 0..<3 { XCTAssertEqual(p[(3 * i)..<(3 * i + 3)].reduce(0, +), 1, accuracy: 1e-6) }
        XCTAssertThrowsError(try head.logits(features: x, count: 2)) { XCTAssertTrue("\($0)".contains("features")) }
        XCTAssertEqual(try head.logits(features: [], count: 0), [])
    }

    func testGradientsMatchFiniteDifferences() throws {
        let (n, d, k) = (7, 5, 4)
        var head = try LinearClassifier(dim: d, classes: k, seed: 1)
        head.weight = randomArray(k * d, std: 0.5, seed: 2)
        head.bias = randomArray(k, std: 0.5, seed: 3)
        let x = randomArray(n * d, seed: 4)
        let labels = [0, 1, 2, 3, 3, 1, 0]
        let g = try head.lossAndGradients(features: x, labels: labels)
        let numericW = try finiteDifferences(head.weight) { w in
            var probe = head; probe.weight = w
            return try probe.lossAndGradients(features: x, labels: labels).loss
        }
        let numericB = try finiteDifferences(head.bias) { b in
            var probe = head; probe.bias = b
            return try probe.lossAndGradients(features: x, labels: labels).loss
        }
        assertGradient(g.weight, numericW, tolerance: 2e-3, "classifier dW")
        assertGradient(g.bias, numericB, tolerance: 2e-3, "classifier dB")
    }

    /// Labels from a random linear teacher with a margin: separable, so SGD must reach 100%.
    func testLearnsSeparableProblemToFullTrainAccuracy() throws {
        let (n, d, k) = (240, 8, 4)
        var random = SeededRandom(seed: 21)
        let teacher = random.normals(count: k * d)
        var x: [Float] = [], labels: [Int] = []
        while labels.count < n {
            let v = random.normals(count: d)
            let scores = (0..<k).map { c in (0..<d).reduce(Float(0)) { $0 + teacher[c * d + $1] * v[$1] } }
            let sorted = scores.sorted(by: >)
            guard sorted[0] - sorted[1] > 0.5 else { continue }
            x += v
            labels.append(scores.firstIndex(of: sorted[0])!)
        }
        var head = try LinearClassifier(dim: d, classes: k, seed: 0)
        var optimizer = SGD(momentum: 0.9)
        XCTAssertLessThan(try head.accuracy(features: x, labels: labels), 0.9)
        let batch = 40, epochs = 60
        let schedule = LearningRateSchedule(totalSteps: epochs * n / batch)
        var step = 0
        for _ in 0..<epochs {
            let order = random.permutation(n)
            for start in stride(from: 0, to: n, by: batch) {
                let idx = order[start..<(start + batch)]
                try head.trainStep(features: idx.flatMap { x[($0 * d)..<(($0 + 1) * d)] }, labels: idx.map { labels[$0] },
                                   optimizer: &optimizer, learningRate: schedule.learningRate(base: 0.5, step: step))
                step += 1
            }
        }
        XCTAssertEqual(try head.accuracy(features: x, labels: labels), 1)
    }
}
