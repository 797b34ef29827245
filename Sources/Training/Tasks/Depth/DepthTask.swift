/// Linear depth estimation (Meta's NYU recipe, dinov3/eval/depth): the task's entry in the
/// registry. The folder holds its data (`DepthDataset`, `DepthMap`, `DepthAugmentation`), head
/// (`DepthHead`, `SigLoss`), settings (`DepthSettings`), run (`DepthTraining`), scoring
/// (`DepthEvaluation`, `DepthMetrics`, `DepthComparison`), per-image prediction (`ImageDepth`)
/// and report (`DepthReport`: `DepthTraining.page`).
public enum DepthTask {
    public static let description = TaskDescription(
        name: "train-depth", kind: .trainedHead,
        summary: "BatchNorm + 1x1 conv to 256 depth bins on patch tokens, SigLoss, AdamW with one-cycle; rmse, abs_rel, a1... (Meta's metrics.py)")
}
