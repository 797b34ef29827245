/// Settings of the linear segmentation recipe (docs/protocols.md, section 5).
public struct SegmentationSettings: TaskSettings {
    /// Meta's budget: 40,000 steps of batch 16 on ADE20K's 20,210 training images (about 31.7 passes).
    public static let metaBudget = TrainingBudget(steps: 40_000, batchSize: 16, trainImages: 20_210)

    /// Optimizer steps (Meta: 40,000).
    public var iterations = 40_000
    public var batchSize = 16
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-3
    /// Linear warm-up steps (Meta: 1,500 of 40,000); nil scales that share to `iterations`.
    public var warmup: Int?
    public var seed: UInt64 = 0

    public init() {}

    /// Every setting in its range (the warm-up at most the run's steps).
    public func validate() throws {
        try SettingError.range(iterations, Ranges.iterations, "iterations")
        try SettingError.range(batchSize, Ranges.batchSize, "batchSize")
        try SettingError.finite(learningRate, Ranges.learningRate, "learningRate")
        try SettingError.finite(weightDecay, Ranges.weightDecay, "weightDecay")
        try SettingError.range(warmup, 0...iterations, "warmup")
    }

    public var warmupSteps: Int { warmup ?? Int((Double(iterations) * 1500 / 40000).rounded()) }

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let iterations = 1...100_000_000
        public static let batchSize = 1...4096
        public static let learningRate = Float.leastNormalMagnitude...10
        public static let weightDecay: ClosedRange<Float> = 0...10
        public static let augmentedViews = 0...1000
    }
}
