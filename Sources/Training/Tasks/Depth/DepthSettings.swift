import Heads

/// Settings of the linear depth recipe (Meta's `config-nyu.yaml`; docs/protocols.md, "Depth").
public struct DepthSettings: TaskSettings {
    /// Meta's budget: 38,400 steps of batch 16 (8 GPUs x 2) on NYU's 24,231 training pairs (BTS's list; about 25.4 passes).
    public static let metaBudget = TrainingBudget(steps: 38_400, batchSize: 16, trainImages: 24_231)

    /// Optimizer steps (Meta: 38,400).
    public var iterations = 38_400
    public var batchSize = 16
    /// AdamW's peak learning rate, betas, weight decay; the total gradient norm is clipped to `gradientClip`.
    public var learningRate: Float = 3e-4
    public var betas: [Float] = [0.9, 0.99]
    public var weightDecay: Float = 1e-4
    public var gradientClip: Float = 35
    /// WarmupOneCycleLR's warm-up steps (Meta: 12,800 of 38,400); nil scales that third to `iterations`.
    public var warmup: Int?
    public var finalDivFactor: Double = 1000
    /// Bins, depth range and the bins/normalisation strategies.
    public var head = DepthHeadRecipe()
    public var seed: UInt64 = 0

    public init() {}

    /// Every setting in its range (the warm-up at most the run's steps).
    public func validate() throws {
        try SettingError.range(iterations, Ranges.iterations, "iterations")
        try SettingError.range(batchSize, Ranges.batchSize, "batchSize")
        try SettingError.finite(learningRate, Ranges.learningRate, "learningRate")
        try SettingError.finite(weightDecay, Ranges.weightDecay, "weightDecay")
        try SettingError.finite(gradientClip, Ranges.gradientClip, "gradientClip")
        try SettingError.range(warmup, 0...iterations, "warmup")
        try SettingError.range(head.bins, Ranges.bins, "bins")
        try SettingError.finite([head.minDepth, head.maxDepth], Ranges.depth, "minDepth")
    }

    public var warmupSteps: Int { warmup ?? Int((Double(iterations) * 12_800 / 38_400).rounded()) }

    /// The one-cycle schedule of these settings.
    public var schedule: WarmupOneCycleLR {
        var schedule = WarmupOneCycleLR(totalSteps: iterations, warmupSteps: min(warmupSteps, iterations - 1))
        schedule.finalDivFactor = finalDivFactor
        return schedule
    }

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let iterations = 1...100_000_000
        public static let batchSize = 1...4096
        public static let learningRate = Float.leastNormalMagnitude...10
        public static let weightDecay: ClosedRange<Float> = 0...10
        public static let gradientClip = Float.leastNormalMagnitude...1e6
        public static let bins = 2...4096
        public static let depth = Float.leastNormalMagnitude...1_000_000
        public static let depthScale = Float.leastNormalMagnitude...65535
        public static let augmentedViews = 0...1000
    }
}
