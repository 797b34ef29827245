import Foundation
import Support

/// The per-step record of a training loop: for every optimizer step, each series' learning rate
/// and loss (one series per head of a grid; one for a single head). Non-finite losses (a
/// diverged head) are kept as they are.
public struct TrainingLog: Sendable, Equatable {
    /// A name per series (e.g. each head's base learning rate).
    public let series: [String]
    /// [steps][series], row-major.
    public private(set) var learningRates: [Float] = []
    /// [steps][series], row-major.
    public private(set) var losses: [Float] = []

    public init(series: [String]) {
        self.series = series
    }

    /// Steps recorded.
    public var steps: Int { series.isEmpty ? 0 : losses.count / series.count }

    /// Records one step.
    public mutating func append(learningRates rates: [Float], losses values: [Float]) {
        learningRates += rates
        losses += values
    }

    /// Series `s`'s losses, one per step.
    public func losses(ofSeries s: Int) -> [Float] {
        stride(from: s, to: losses.count, by: series.count).map { losses[$0] }
    }

    /// CSV in long form, one row per step and series: `step,series,learning_rate,loss`
    /// (steps from 1; `nan`/`inf` for non-finite losses).
    public func csv() -> String {
        var csv = CSVWriter(header: ["step", "series", "learning_rate", "loss"])
        for step in 0..<steps {
            for (s, name) in series.enumerated() {
                let i = step * series.count + s
                csv.row([.int(step + 1), .text(name), .float(learningRates[i]), .float(losses[i])])
            }
        }
        return csv.text
    }
}

extension TrainingLog: Checkpointable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.floats[prefix + ".learning_rates"] = learningRates
        state.floats[prefix + ".losses"] = losses
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        let rates = try state.floats(prefix + ".learning_rates", count: state.floats[prefix + ".learning_rates"]?.count ?? -1)
        let values = try state.floats(prefix + ".losses", count: rates.count)
        guard !series.isEmpty, values.count % series.count == 0 else {
            throw HeadError.badCheckpoint(path: "", reason: "the training log does not have \(series.count) series")
        }
        (learningRates, losses) = (rates, values)
    }
}

/// How a training loop saves its state as it goes, and the state it resumes from.
public struct Checkpointing {
    /// A state an earlier run of the same loop saved; the loop continues from it and ends with
    /// exactly the result an uninterrupted run would have given.
    public var resumeFrom: TrainingState?
    /// Seconds between saves (taken at step boundaries).
    public var interval: TimeInterval
    /// Identifies the inputs (the data, the features); a state saved for other inputs is refused.
    public var inputs: String
    /// Stores a state (the caller decides where; it should write atomically).
    public var save: (TrainingState, _ step: Int) throws -> Void

    /// The step the resumed state was saved after (nil when not resuming, or unreadable).
    public var resumeStep: Int? { resumeFrom?.info["step"].flatMap { Int($0) } }

    public init(resumeFrom: TrainingState? = nil, interval: TimeInterval = 300, inputs: String,
                save: @escaping (TrainingState, _ step: Int) throws -> Void) {
        self.resumeFrom = resumeFrom
        self.interval = interval
        self.inputs = inputs
        self.save = save
    }
}

/// The bookkeeping every checkpointed loop shares: what identifies the run, when to save next.
public struct CheckpointClock {
    let checkpointing: Checkpointing?
    let identity: [String: String]
    private var lastSave = Date()

    /// `loop` names the training loop, `settings` its settings (compared as JSON on resume).
    public init<Settings: Encodable>(_ checkpointing: Checkpointing?, loop: String, settings: Settings) throws {
        self.checkpointing = checkpointing
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        identity = ["loop": loop, "settings": String(decoding: try encoder.encode(settings), as: UTF8.self),
                    "inputs": checkpointing?.inputs ?? ""]
    }

    /// The state to resume from, checked to belong to this loop, settings and inputs; and its step.
    public func resumeState() throws -> (state: TrainingState, step: Int)? {
        guard let state = checkpointing?.resumeFrom else { return nil }
        for (key, value) in identity.sorted(by: { $0.key < $1.key }) where state.info[key] != value {
            let what = key == "settings" ? "other settings (\(state.info[key] ?? "none") instead of \(value))"
                : key == "inputs" ? "other data or features" : "another kind of training"
            throw HeadError.badCheckpoint(path: "", reason: "it was saved by a run with \(what)")
        }
        guard let step = Int(try state.string("step")), step >= 0 else {
            throw HeadError.badCheckpoint(path: "", reason: "its step is not a number")
        }
        return (state, step)
    }

    /// Saves `parts` after `step` steps when the interval has passed (or when `force`).
    public mutating func tick(step: Int, force: Bool = false, _ parts: (inout TrainingState) -> Void) throws {
        guard let checkpointing, force || Date().timeIntervalSince(lastSave) >= checkpointing.interval else { return }
        var state = TrainingState()
        state.info = identity
        state.info["step"] = String(step)
        parts(&state)
        try checkpointing.save(state, step)
        lastSave = Date()
    }
}
