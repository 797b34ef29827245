import Foundation
@testable import Heads
import Support
import XCTest

/// Training state: saved at any step and resumed, the loops end exactly where an uninterrupted
/// run ends (weights, log, chosen head), for SGD and AdamW, with a diverged head in the grid.
final class CheckpointResumeTests: XCTestCase {
    func data(count: Int, seed: UInt64) -> LabelledFeatures {
        var random = SeededRandom(seed: seed)
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            labels.append(i % 3)
            for d in 0..<6 { values.append(random.normal() + (d == i % 3 ? 1.5 : 0)) }
        }
        return LabelledFeatures(values: values, labels: labels, width: 6)
    }

    func settings(_ optimizer: ProbeOptimizer) -> LinearProbeSettings {
        var s = LinearProbeSettings()
        s.epochs = 4
        s.iterationsPerEpoch = 25
        s.batchSize = 16
        s.optimizer = optimizer
        s.warmupEpochs = 1
        s.weightDecay = 1e-3
        s.learningRates = [1e-3, 0.1, 1e9]  // the last one diverges
        s.seed = 11
        return s
    }

    func testProbeResumedFromAnyStepEqualsTheUninterruptedRun() throws {
        let train = data(count: 90, seed: 1), selection = data(count: 30, seed: 2)
        let meta = HeadMetadata(kind: .classifier)
        for optimizer in ProbeOptimizer.allCases {
            var saved: [Int: TrainingState] = [:]
            let every = StateSaving(interval: 0, inputs: "test") { state, step in saved[step] = state }
            let whole = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(optimizer), metadata: meta,
                                              saving: every)
            XCTAssertEqual(saved.count, 100, "a state after every step")
            XCTAssertNotNil(whole.result.divergedAtStep[2], "the huge rate diverges")
            for step in [1, 37, 99] {
                // Through a file, as the CLI does.
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString).safetensors").path
                defer { try? FileManager.default.removeItem(atPath: path) }
                try XCTUnwrap(saved[step]).write(to: path)
                let resume = StateSaving(resumeFrom: try TrainingState.read(from: path), interval: 1e9, inputs: "test") { _, _ in }
                let resumed = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(optimizer), metadata: meta,
                                                    saving: resume)
                XCTAssertEqual(resumed.grid.weight.map(\.bitPattern), whole.grid.weight.map(\.bitPattern), "\(optimizer) from step \(step)")
                XCTAssertEqual(resumed.grid.bias.map(\.bitPattern), whole.grid.bias.map(\.bitPattern))
                XCTAssertEqual(resumed.log.losses.map(\.bitPattern), whole.log.losses.map(\.bitPattern))
                XCTAssertEqual(resumed.result.divergedAtStep, whole.result.divergedAtStep)
                XCTAssertEqual(resumed.result.bestIndex, whole.result.bestIndex)
                XCTAssertEqual(resumed.result.finalLosses.map(\.bitPattern), whole.result.finalLosses.map(\.bitPattern))
            }
        }
    }

    func testAStateFromOtherSettingsOrDataIsRefused() throws {
        let train = data(count: 60, seed: 1), selection = data(count: 30, seed: 2)
        var state: TrainingState?
        _ = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(.sgd), metadata: HeadMetadata(kind: .classifier),
                                  saving: StateSaving(interval: 0, inputs: "x") { s, step in if step == 10 { state = s } })
        var other = settings(.sgd)
        other.epochs = 5
        for (s, d) in [(other, train), (settings(.sgd), data(count: 60, seed: 9))] {
            XCTAssertThrowsError(try LinearProbe.train(d, selection: selection, classes: 3, settings: s, metadata: HeadMetadata(kind: .classifier),
                                                       saving: StateSaving(resumeFrom: state, inputs: "x") { _, _ in })) {
                XCTAssertTrue("\($0)".contains("saved by a run with other"), "\($0)")
            }
        }
    }

    func testStateFilesRoundTripAndForeignFilesAreRefused() throws {
        var random = SeededRandom(seed: 3)
        _ = random.normal()  // leaves a spare normal in the state
        var state = TrainingState()
        random.save(into: &state, as: "random")
        state.floats["x"] = [1, .nan, -.infinity]
        state.info["step"] = "7"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try state.write(to: path)
        let back = try TrainingState.read(from: path)
        var restored = SeededRandom(seed: 0)
        try restored.restore(from: back, as: "random")
        XCTAssertEqual(restored.normal(), random.normal(), "the spare normal survives")
        XCTAssertEqual(restored.next(), random.next())
        XCTAssertEqual(back.floats["x"]?.map(\.bitPattern), state.floats["x"]?.map(\.bitPattern))
        XCTAssertEqual(back.info["step"], "7")
        // A head file is not a training state.
        let head = try LinearClassifier(dim: 2, classes: 2, seed: 0)
        try head.save(to: path)
        XCTAssertThrowsError(try TrainingState.read(from: path)) { XCTAssertTrue("\($0)".contains("not a dinoprobe training state"), "\($0)") }
        XCTAssertNil(SeededRandom(state: [0, 0, 0, 0, 0, 0]), "the all-zero state would repeat zeros forever")
    }
}
