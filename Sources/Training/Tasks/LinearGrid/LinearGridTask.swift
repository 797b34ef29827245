import Heads

/// Meta's linear-probe grid: one head per learning rate trained together (`LinearProbe`), the
/// best chosen on a hold-out; `eval-linear` and `classify` reuse the saved head (`SavedClassifier`).
public enum LinearGridTask {
    public static let description = TaskDescription(
        name: "train-linear", kind: .trainedHead,
        summary: "Meta's 13-rate linear grid on CLS + average-pooled tokens, SGD and cosine; top-1, top-5, balanced accuracy, macro F1")
}

extension LinearProbeSettings: TaskSettings {
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

    /// Every setting in its range (the warm-up at most the run's epochs).
    public func validate() throws {
        try SettingError.range(epochs, Ranges.epochs, "epochs")
        try SettingError.range(iterationsPerEpoch, Ranges.iterationsPerEpoch, "iterationsPerEpoch")
        try SettingError.range(epochs * max(iterationsPerEpoch, 1), Ranges.totalSteps, "epochs x iterationsPerEpoch")
        try SettingError.range(batchSize, Ranges.batchSize, "batchSize")
        try SettingError.finite(learningRates, Ranges.learningRate, "learningRates")
        try SettingError.finite(weightDecay, Ranges.weightDecay, "weightDecay")
        try SettingError.finite(warmupEpochs, 0...Double(epochs), "warmupEpochs")
    }
}
