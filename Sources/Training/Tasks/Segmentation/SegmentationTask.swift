/// Linear semantic segmentation (Meta's ADE20K recipe): the task's entry in the registry. The
/// folder holds its settings (`SegmentationSettings`), run (`SegmentationRun`), inference
/// (`LinearSegmenter.predict(window:…)`), report (`SegmentationReport`) and mask scoring.
public enum SegmentationTask {
    public static let description = TaskDescription(
        name: "train-seg", kind: .trainedHead,
        summary: "BatchNorm + 1x1 conv on patch tokens, AdamW with warm-up and cosine; mIoU, aAcc, mAcc (mmsegmentation)")
}
