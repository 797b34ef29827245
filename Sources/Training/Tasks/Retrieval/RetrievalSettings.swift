import Heads

/// A retrieval run's recipe (recorded in run.json): which tokens, at which scales, how many
/// results are kept per query, and the memory the ranking may use.
public struct RetrievalSettings: Sendable, Codable, Equatable {
    /// `cls` (DINO's retrieval feature) or `cls+avgpool` (CLS and mean patch token), last block.
    public var tokens: FeatureTokens = .cls
    /// Input sizes as fractions of `--size`, averaged (DINO's multi-scale: 1, 0.707, 0.5).
    public var scales: [Double] = [1]
    /// Results kept per query (ranks.csv).
    public var topK = 100
    /// Bytes the ranking's database block and its scores may take.
    public var rankingMemory = 256 << 20

    public init() {}

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
