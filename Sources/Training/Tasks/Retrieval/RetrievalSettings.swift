
/// The feature a retrieval vector is made of, from the last block.
public enum RetrievalTokens: String, Sendable, Codable, CaseIterable {
    /// The CLS token (DINO's retrieval feature).
    case cls
    /// The CLS token and the mean patch token, concatenated.
    case clsAvgpool = "cls+avgpool"
    /// GeM (p = 3, cirtorch's) over the patch tokens.
    case gem

    /// The cache rows' patch pooling this feature needs.
    public var pooling: PatchPooling { self == .gem ? .gem : .mean }

    /// The width of a vector from a backbone of width `dim`.
    public func width(dim: Int) -> Int { self == .clsAvgpool ? 2 * dim : dim }
}

/// A retrieval run's recipe (recorded in run.json): which tokens, at which scales, how many
/// results are kept per query, and the memory the ranking may use.
public struct RetrievalSettings: TaskSettings {
    public var tokens: RetrievalTokens = .cls
    /// Input sizes as fractions of `--size`, averaged (DINO's multi-scale: 1, 0.707, 0.5).
    public var scales: [Double] = [1]
    /// Results kept per query (ranks.csv).
    public var topK = 100
    /// MiB the ranking's database block and its scores may take.
    public var rankingMemory = 256

    public init() {}

    /// Every setting in its range.
    public func validate() throws {
        try SettingError.range(scales.count, Ranges.scaleCount, "the number of scales")
        try SettingError.finite(scales, Ranges.scale, "scales")
        try SettingError.range(topK, Ranges.topK, "topK")
        try SettingError.range(rankingMemory, Ranges.rankingMemoryMiB, "rankingMemory")
    }

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let scale: ClosedRange<Double> = 0.05...4
        public static let scaleCount = 1...8
        public static let topK = 1...10_000
        public static let rankingMemoryMiB = 1...1_048_576
    }
}

/// The retrieval task's entry in the registry.
public enum RetrievalTask {
    public static let description = TaskDescription(
        name: "retrieval", kind: .nearestNeighbours,
        summary: "revisited Oxford/Paris instance retrieval: cosine ranking of cropped queries; mAP and mP@1,5,10 for Easy, Medium, Hard")
}
