import Foundation

/// How a training loop saves its state as it goes, and the state it resumes from.
public struct StateSaving {
    /// A state an earlier run of the same loop saved; the loop continues from it and ends with
    /// exactly the result an uninterrupted run would have given.
    public var resumeFrom: TrainingState?
    /// Seconds between saves (taken at step boundaries).
    public var interval: TimeInterval
    /// Identifies the inputs (the data, the features); a state saved for other inputs is refused.
    public var inputs: String
    /// Stores a state (the caller decides where; it should write atomically).
    public var save: (TrainingState, _ step: Int) throws -> Void

    public init(resumeFrom: TrainingState? = nil, interval: TimeInterval = 300, inputs: String,
                save: @escaping (TrainingState, _ step: Int) throws -> Void) {
        (self.resumeFrom, self.interval, self.inputs, self.save) = (resumeFrom, interval, inputs, save)
    }
}

/// The bookkeeping of saving a loop's state: what identifies the run, when to save next.
struct StateSaver {
    let saving: StateSaving?
    let identity: [String: String]
    private var lastSave = Date()

    /// `loop` names the training loop, `settings` its settings as JSON with sorted keys.
    init(_ saving: StateSaving?, loop: String, settings: String) {
        self.saving = saving
        identity = ["loop": loop, "settings": settings, "inputs": saving?.inputs ?? ""]
    }

    /// The state to resume from, checked to belong to this loop, settings and inputs; and its step.
    func resumeState() throws -> (state: TrainingState, step: Int)? {
        guard let state = saving?.resumeFrom else { return nil }
        for (key, value) in identity.sorted(by: { $0.key < $1.key }) where state.info[key] != value {
            let what = key == "settings" ? "other settings (\(state.info[key] ?? "none") instead of \(value))"
                : key == "inputs" ? "other data or features" : "another kind of training"
            throw HeadError.badTrainingState(path: "", reason: "it was saved by a run with \(what)")
        }
        guard let step = Int(try state.string("step")), step >= 0 else {
            throw HeadError.badTrainingState(path: "", reason: "its step is not a number")
        }
        return (state, step)
    }

    /// Saves `parts` after `step` steps when the interval has passed (or when `force`).
    mutating func tick(step: Int, force: Bool = false, _ parts: (inout TrainingState) -> Void) throws {
        guard let saving, force || Date().timeIntervalSince(lastSave) >= saving.interval else { return }
        var state = TrainingState()
        state.info = identity
        state.info["step"] = String(step)
        parts(&state)
        try saving.save(state, step)
        lastSave = Date()
    }
}
