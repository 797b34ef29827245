/// Semantic keypoint correspondence (SPair-71k, Probe3D's protocol): the task's entry in the
/// registry. The folder holds the data reader (`SPairData`), matching (`KeypointMatching`),
/// the run (`CorrespondenceRun`), PCK (`CorrespondenceAccumulator`) and the report.
public enum CorrespondenceTask {
    public static let description = TaskDescription(
        name: "correspondence", kind: .nearestNeighbours,
        summary: "each source keypoint's patch feature matched by cosine on the target's upsampled grid; PCK@0.1/0.05/0.01 of the target box (SPair-71k)")
}
