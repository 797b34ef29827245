/// Linear semantic segmentation (Meta's ADE20K recipe): the task's entry in the registry. The
/// folder holds its settings (`SegmentationSettings`), run (`SegmentationTraining`), scoring
/// (`SegmentationEvaluation`, `SegmentationScores`), inference (`LinearSegmenter.predict(window:…)`),
/// report (`SegmentationReport`: `SegmentationTraining.page`) and mask comparison.
public enum SegmentationTask {
    public static let description = TaskDescription(
        name: "train-seg", kind: .trainedHead,
        summary: "BatchNorm + 1x1 conv on patch tokens, AdamW with warm-up and cosine; mIoU, aAcc, mAcc (mmsegmentation)")
}
