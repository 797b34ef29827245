/// Settings of the k-NN protocol (DINO's `eval_knn.py`): the neighbour counts scored and the
/// temperature of the votes.
public struct KNNSettings: TaskSettings {
    /// Neighbour counts, each scored.
    public var k = [10, 20, 100, 200]
    /// Votes are weighted by `exp(cosine / temperature)`.
    public var temperature: Float = 0.07

    public init() {}

    /// Every setting in its range.
    public func validate() throws {
        guard !k.isEmpty else { throw SettingError(setting: "k", problem: "needs at least one value") }
        for value in k { try SettingError.range(value, KNNTask.Ranges.k, "k") }
        try SettingError.finite(temperature, KNNTask.Ranges.temperature, "temperature")
    }
}
