/// How a task gets its answer.
public enum TaskKind: String, Sendable, Codable {
    /// A head trained on frozen features by the shared `TrainingLoop`.
    case trainedHead = "trained head"
    /// A closed-form or convex solver on frozen features (no training loop).
    case solver
    /// Nearest neighbours on frozen features (nothing trained).
    case nearestNeighbours = "nearest neighbours"
    /// Several of the above on subsets of the data.
    case composite
}

/// One evaluation task: the command that runs it, how it works, what it reports.
public struct TaskDescription: Sendable, Equatable {
    /// The CLI command (and the run-folder prefix).
    public var name: String
    public var kind: TaskKind
    /// One line: the protocol and the metric.
    public var summary: String
}

/// Every evaluation task dinoprobe has, one line each (a new task folder adds its line here).
public enum TaskRegistry {
    public static let all: [TaskDescription] = [
        LinearGridTask.description,
        LogregTask.description,
        KNNTask.description,
        FewShotTask.description,
        SegmentationTask.description,
        DepthTask.description,
        CorrespondenceTask.description,
        RetrievalTask.description,
        PropagationTask.description,
    ]

    /// The task run by command `name`.
    public static func task(named name: String) -> TaskDescription? { all.first { $0.name == name } }
}
