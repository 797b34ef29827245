/// Video label propagation (DINO's DAVIS 2017 protocol): the task's entry in the registry. The
/// folder holds its settings, the DAVIS reader (`DAVISVideos`), the propagation
/// (`LabelPropagator`, `PropagationLabels`), the run (`PropagationRun`) and the report.
public enum PropagationTask {
    public static let description = TaskDescription(
        name: "propagate", kind: .nearestNeighbours,
        summary: "first-frame masks propagated by top-k patch neighbours over a queue of frames (DINO); J&F as davis2017-evaluation")
}
