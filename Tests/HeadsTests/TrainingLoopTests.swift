import Foundation
@testable import Heads
import Support
import XCTest

/// The shared training loop through the protocol alone, with a head that is neither of
/// dinoprobe's: resumed from any saved step it ends bit for bit where an uninterrupted run ends.
final class TrainingLoopTests: XCTestCase {
    /// Linear regression with per-sample dropout drawn from the loop's random stream.
    struct TinyRegressor: TrainableHead {
        struct Batch { var x: [Float], y: [Float] }
        var weight: [Float], bias: [Float] = [0]
        var metadata = HeadMetadata(kind: .classifier)

        mutating func forwardBackward(_ batch: Batch, random: inout SeededRandom) throws -> HeadGradients {
            let d = weight.count, n = batch.y.count
            var dw = [Float](repeating: 0, count: d), db: Float = 0, loss: Float = 0
            for i in 0..<n where random.uniform() < 0.8 {
                let x = batch.x[(i * d)..<((i + 1) * d)]
                let error = zip(x, weight).map(*).reduce(bias[0], +) - batch.y[i]
                loss += error * error / Float(n)
                for (j, v) in x.enumerated() { dw[j] += 2 * error * v / Float(n) }
                db += 2 * error / Float(n)
            }
            return HeadGradients(losses: [loss], parameters: [("weight", dw), ("bias", [db])])
        }

        mutating func updateParameter(_ name: String, _ update: (inout [Float]) throws -> Void) throws {
            if name == "weight" { try update(&weight) } else { try update(&bias) }
        }

        func save(into state: inout TrainingState, as prefix: String) {
            state.floats[prefix + ".weight"] = weight
            state.floats[prefix + ".bias"] = bias
        }

        mutating func restore(from state: TrainingState, as prefix: String) throws {
            weight = try state.floats(prefix + ".weight", count: weight.count)
            bias = try state.floats(prefix + ".bias", count: 1)
        }
    }

    let data: (x: [Float], y: [Float]) = {
        var random = SeededRandom(seed: 4)
        let x = (0..<(40 * 3)).map { _ in random.normal() }
        var y: [Float] = []
        for i in 0..<40 { y.append(2 * x[i * 3] - x[i * 3 + 2] + 0.5) }
        return (x, y)
    }()

    func loop(rate: Float = 0.05, saving: StateSaving? = nil) throws -> TrainingLoop {
        try TrainingLoop(name: "tiny", settings: ["rate": rate], steps: 30, batchSize: 8, seed: 9,
                         schedule: LearningRateSchedule(totalSteps: 30, warmupSteps: 3), learningRates: [rate], series: ["head"],
                         saving: saving)
    }

    func train(_ loop: TrainingLoop) throws -> (head: TinyRegressor, outcome: TrainingOutcome) {
        var head = TinyRegressor(weight: [0, 0, 0])
        var optimizer = AdamW(weightDecay: 1e-2)
        let outcome = try loop.run(&head, optimizer: &optimizer, samples: 40) { indices in
            TinyRegressor.Batch(x: indices.flatMap { self.data.x[($0 * 3)..<($0 * 3 + 3)] }, y: indices.map { self.data.y[$0] })
        }
        return (head, outcome)
    }

    func testResumedFromAnyStepEqualsTheUninterruptedRun() throws {
        var saved: [Int: TrainingState] = [:]
        let whole = try train(loop(saving: StateSaving(interval: 0, inputs: "d") { state, step in saved[step] = state }))
        XCTAssertEqual(saved.count, 30, "a state after every step")
        XCTAssertLessThan(whole.outcome.finalLosses[0], whole.outcome.log.losses[0], "it learns")
        for step in [1, 12, 29, 30] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(UUID().uuidString).safetensors").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try XCTUnwrap(saved[step]).write(to: path)
            let resumed = try train(loop(saving: StateSaving(resumeFrom: try TrainingState.read(from: path), inputs: "d") { _, _ in }))
            XCTAssertEqual(resumed.head.weight.map(\.bitPattern), whole.head.weight.map(\.bitPattern), "from step \(step)")
            XCTAssertEqual(resumed.head.bias.map(\.bitPattern), whole.head.bias.map(\.bitPattern))
            XCTAssertEqual(resumed.outcome.log, whole.outcome.log)
        }
    }

    func testOtherSettingsOrInputsAreRefusedAndDivergenceStops() throws {
        var state: TrainingState?
        _ = try train(loop(saving: StateSaving(interval: 0, inputs: "d") { s, step in if step == 5 { state = s } }))
        for (rate, inputs) in [(Float(0.1), "d"), (0.05, "other")] {
            XCTAssertThrowsError(try train(loop(rate: rate, saving: StateSaving(resumeFrom: state, inputs: inputs) { _, _ in }))) {
                XCTAssertTrue("\($0)".contains("saved by a run with other"), "\($0)")
            }
        }
        XCTAssertThrowsError(try train(loop(rate: 1e30))) { error in
            guard case HeadError.diverged(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("lower the learning rate"), message)
        }
    }
}
