import Heads
import SafeTensors
import XCTest

final class OptimizerTests: XCTestCase {
    /// By hand: p = 1, g = 1 every step, lr 0.1. buf = 1, 1.9, 2.71; p = 0.9, 0.71, 0.439.
    func testSGDMomentumByHand() throws {
        var p: [Float] = [1]
        var sgd = SGD(momentum: 0.9)
        var trajectory: [Float] = []
        for _ in 0..<3 {
            try sgd.step("p", parameters: &p, gradients: [1], learningRate: 0.1)
            trajectory.append(p[0])
        }
        XCTAssertEqual(trajectory[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(trajectory[1], 0.71, accuracy: 1e-6)
        XCTAssertEqual(trajectory[2], 0.439, accuracy: 1e-6)
    }

    /// By hand: p = 1, g = 1, lr 0.1, wd 0.01. m̂ = v̂ = 1 every step, so
    /// p <- p (1 - 0.001) - 0.1 / (1 + 1e-8): 0.899, 0.798101, 0.697303.
    func testAdamWByHand() throws {
        var p: [Float] = [1]
        var adam = AdamW(weightDecay: 0.01)
        var expected: Double = 1
        for _ in 0..<3 {
            try adam.step("p", parameters: &p, gradients: [1], learningRate: 0.1)
            expected = expected * (1 - 0.001) - 0.1 / (1 + 1e-8)
            XCTAssertEqual(Double(p[0]), expected, accuracy: 1e-6)
        }
        XCTAssertEqual(p[0], 0.697303, accuracy: 1e-5)
    }

    /// Trajectories of torch.optim.SGD / AdamW with two parameter groups (= two segments here)
    /// and a learning rate that changes every step.
    func testMatchesTorchOptimOverThreeSteps() throws {
        let file = try Fixtures.file("optimizers.safetensors")
        let p0 = try file.floats("params0"), grads = try file.floats("grads")
        let factors = try file.floats("step_factor"), bases = try file.floats("bases")
        let cases: [(String, any Optimizer)] = [
            ("sgd", SGD(momentum: 0.9)),
            ("sgd_nesterov_wd", SGD(momentum: 0.9, weightDecay: 0.05, nesterov: true)),
            ("adamw", AdamW()),
            ("adamw_wd", AdamW(beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.5)),
        ]
        for (name, made) in cases {
            var optimizer = made
            let expected = try file.floats(name)
            var p = p0
            for t in 0..<3 {
                try optimizer.step("p", parameters: &p, gradients: Array(grads[(t * 6)..<((t + 1) * 6)]),
                                   learningRates: bases.map { $0 * factors[t] })
                XCTAssertLessThan(maxAbsDiff(p, Array(expected[(t * 6)..<((t + 1) * 6)])), 2e-6, "\(name) step \(t + 1)")
            }
        }
    }

    func testStateIsPerNameAndSizesAreChecked() throws {
        var sgd = SGD(momentum: 0.9)
        var a: [Float] = [1, 1], b: [Float] = [1]
        try sgd.step("a", parameters: &a, gradients: [1, 1], learningRate: 0.1)
        try sgd.step("b", parameters: &b, gradients: [1], learningRate: 0.1)
        XCTAssertEqual(b, [0.9])  // b's first step: its own fresh buffer
        XCTAssertThrowsError(try sgd.step("a", parameters: &b, gradients: [1], learningRate: 0.1))
        XCTAssertThrowsError(try sgd.step("c", parameters: &a, gradients: [1], learningRate: 0.1))
        XCTAssertThrowsError(try sgd.step("c", parameters: &a, gradients: [1, 1], learningRates: [0.1, 0.2, 0.3]))
        sgd.reset()
        try sgd.step("a", parameters: &b, gradients: [1], learningRate: 0.1)
    }

    func testCosineScheduleWithWarmup() {
        let plain = LearningRateSchedule(totalSteps: 10)
        XCTAssertEqual(plain.factor(at: 0), 1)
        XCTAssertEqual(plain.factor(at: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(plain.factor(at: 10), 0)
        XCTAssertEqual(plain.learningRate(base: 0.2, step: 5), 0.1, accuracy: 1e-7)
        let warm = LearningRateSchedule(totalSteps: 10, warmupSteps: 2)
        XCTAssertEqual(warm.factor(at: 0), 0)
        XCTAssertEqual(warm.factor(at: 1), 0.5)
        XCTAssertEqual(warm.factor(at: 2), 1)
        XCTAssertEqual(warm.factor(at: 6), 0.5, accuracy: 1e-6)
        let floored = LearningRateSchedule(totalSteps: 10, warmupSteps: 2, warmupStart: 0.1, floor: 0.1)
        XCTAssertEqual(floored.factor(at: 0), 0.1)
        XCTAssertEqual(floored.factor(at: 6), 0.55, accuracy: 1e-6)
        XCTAssertEqual(floored.factor(at: 50), 0.1)
        XCTAssertEqual(LearningRateSchedule.constant.factor(at: 123_456), 1)
    }
}
