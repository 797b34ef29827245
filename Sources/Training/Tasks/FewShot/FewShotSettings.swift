import Heads

/// Settings of the few-shot evaluation: the shot counts and draws, the linear grid's budget, the
/// k-NN neighbour counts, and whether logistic regression is scored too.
public struct FewShotSettings: TaskSettings {
    /// Images per class; a value below 1 is a share of each class.
    public var shots: [Double] = [1, 2, 5, 10]
    /// Seeded draws per shot count.
    public var tries = 5
    /// Optimizer steps of the linear grid per try, in batches of at most `batchSize`.
    public var iterations = 1250
    public var batchSize = 128
    /// k-NN neighbour counts (clamped to the subset).
    public var k = [20]
    /// Also score Meta's logistic regression (45 values of C) per try.
    public var logreg = true
    /// Seed of the heads' initialisation and shuffling (each try adds its index).
    public var seed: UInt64 = 0

    public init() {}

    /// Every setting in its range.
    public func validate() throws {
        guard !shots.isEmpty else { throw SettingError(setting: "shots", problem: "needs at least one value") }
        try SettingError.finite(shots, FewShotTask.Ranges.shots, "shots")
        try SettingError.range(tries, FewShotTask.Ranges.tries, "tries")
        try SettingError.range(iterations, FewShotTask.Ranges.iterations, "iterations")
        try SettingError.range(batchSize, FewShotTask.Ranges.batchSize, "batchSize")
        for value in k { try SettingError.range(value, KNNTask.Ranges.k, "k") }
    }

    /// The linear grid's settings of one try: one epoch of `iterations` steps.
    public var linearProbe: LinearProbeSettings {
        var settings = LinearProbeSettings()
        (settings.epochs, settings.iterationsPerEpoch, settings.batchSize, settings.seed) = (1, iterations, batchSize, seed)
        return settings
    }
}
