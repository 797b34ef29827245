/// Settings of the linear segmentation recipe (docs/protocols.md, section 5).
public struct SegmentationSettings: TaskSettings {
    /// Meta's budget: 40,000 steps of batch 16 on ADE20K's 20,210 training images.
    public static let metaIterations = 40_000, metaBatchSize = 16, metaTrainImages = 20_210

    /// The default number of steps for `images` training images in batches of `batchSize`: as
    /// many passes over the data as Meta's recipe makes over ADE20K (about 31.7), at least 100
    /// steps and at most Meta's 40,000 (which an ADE20K-sized set gets).
    public static func defaultIterations(images: Int, batchSize: Int) -> Int {
        TrainingBudget(steps: metaIterations, batchSize: metaBatchSize, trainImages: metaTrainImages).steps(images: images, batchSize: batchSize)
    }

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
