import Heads

/// Meta's linear-probe grid: one head per learning rate trained together (`LinearProbe`), the
/// best chosen on a hold-out; `eval-linear` and `classify` reuse the saved head (`SavedClassifier`).
public enum LinearGridTask {
    public static let description = TaskDescription(
        name: "train-linear", kind: .trainedHead,
        summary: "Meta's 13-rate linear grid on CLS + average-pooled tokens, SGD and cosine; top-1, top-5, balanced accuracy, macro F1")
}

extension LinearProbeSettings {
    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let epochs = 1...100_000
        public static let iterationsPerEpoch = 0...10_000_000
        public static let totalSteps = 1...1_000_000_000
        public static let batchSize = 1...1_000_000
        public static let learningRate = Float.leastNormalMagnitude...1000
        public static let weightDecay: ClosedRange<Float> = 0...1000
        public static let augmentedViews = 0...1000
    }
}
