import Evaluation
import Support

/// One pair's matches: each counted keypoint's prediction and its error in target pixels, and
/// the PCK threshold's base, max(width, height) of the target box.
public struct KeypointPairResult: Sendable {
    public var name: String, category: String
    public var predictions: [(x: Double, y: Double)]
    public var errors: [Double]
    public var boxSide: Double

    /// Points within `alpha` x `boxSide` (inclusive, SPair's and DIFT's `<=`).
    public func correct(_ alpha: Double) -> Int { errors.filter { $0 <= alpha * boxSide }.count }
}

/// PCK at each alpha of a set of pairs: per point (all points pooled) and per image (the mean
/// over pairs of each pair's fraction).
public struct PCKScores: Codable, Sendable, Equatable {
    public var pairs: Int, points: Int
    /// Keyed by alpha ("0.1", "0.05", "0.01").
    public var perPoint: [String: Double], perImage: [String: Double]
}

/// PCK per category and overall. The headline is Probe3D's: per-point PCK@0.1 within each
/// category, averaged over categories (`categoryMean`).
public struct CorrespondenceResult: MetricResult {
    public static let alphas = [0.1, 0.05, 0.01]
    public var headline: String
    public var headlineValue: Double
    public var overall: PCKScores
    /// The mean over categories of each category's per-point and per-image PCK.
    public var categoryMean: [String: [String: Double]]
    public var categories: [String: PCKScores]
    /// The run's settings and the pairs it could not score (set by whoever writes the result).
    public var settings: CorrespondenceSettings?
    public var skippedPairs = 0
    /// The protocol in words, written into metrics.json.
    public let pckDefinition = "correct when the distance to the true target keypoint, in target pixels, is <= alpha * max(w, h) of trg_bndbox"
    public let perPointDefinition = "correct keypoints / keypoints, all pairs' keypoints pooled"
    public let perImageDefinition = "mean over pairs of each pair's fraction of correct keypoints"

    public func table(maxNameWidth: Int) -> String {
        func cell(_ text: String) -> String { String(repeating: " ", count: max(0, 7 - text.count)) + text }
        func row(_ name: String, _ counts: [String], _ cells: [String]) -> String {
            String(name.prefix(maxNameWidth)).padding(toLength: maxNameWidth, withPad: " ", startingAt: 0) + (counts + cells).map(cell).joined(separator: " ")
        }
        func scores(_ name: String, _ s: PCKScores) -> String {
            row(name, ["\(s.pairs)", "\(s.points)"], Self.alphas.flatMap { [s.perPoint[Self.key($0)] ?? 0, s.perImage[Self.key($0)] ?? 0] }
                .map { String(format: "%.2f", 100 * $0) })
        }
        let header = row("category", ["pairs", "points"], Self.alphas.flatMap { ["pt@\($0)", "im@\($0)"] })
        let lines = categories.sorted { $0.key < $1.key }.map { scores($0.key, $0.value) } + [scores("all (pooled)", overall)]
        return ([header] + lines).joined(separator: "\n") + String(format: "\nheadline %@: %.2f", headline, 100 * headlineValue)
    }

    static func key(_ alpha: Double) -> String { "\(alpha)" }
}

/// Accumulates `KeypointPairResult`s into a `CorrespondenceResult`.
public struct CorrespondenceAccumulator: MetricAccumulator, Sendable {
    private var byCategory: [String: [(points: Int, correct: [Int])]] = [:]

    public init() {}

    public mutating func update(_ pair: KeypointPairResult) throws {
        guard !pair.errors.isEmpty, pair.boxSide > 0, pair.errors.allSatisfy(\.isFinite) else {
            throw TrainingError.incompatible("pair \(pair.name): no finite errors to score")
        }
        byCategory[pair.category, default: []].append((pair.errors.count, CorrespondenceResult.alphas.map(pair.correct)))
    }

    public func finish() throws -> CorrespondenceResult {
        guard !byCategory.isEmpty else { throw TrainingError.incompatible("no pair was scored") }
        let categories = byCategory.mapValues(Self.scores)
        let overall = Self.scores(byCategory.values.flatMap { $0 })
        func mean(_ pick: (PCKScores) -> [String: Double]) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: CorrespondenceResult.alphas.map(CorrespondenceResult.key).map { alpha in
                (alpha, categories.values.map { pick($0)[alpha] ?? 0 }.reduce(0, +) / Double(categories.count))
            })
        }
        let means = ["perPoint": mean(\.perPoint), "perImage": mean(\.perImage)]
        return CorrespondenceResult(headline: "category_mean.per_point PCK@0.1", headlineValue: means["perPoint"]?["0.1"] ?? 0,
                                    overall: overall, categoryMean: means, categories: categories)
    }

    private static func scores(_ pairs: [(points: Int, correct: [Int])]) -> PCKScores {
        let points = pairs.reduce(0) { $0 + $1.points }
        var perPoint: [String: Double] = [:], perImage: [String: Double] = [:]
        for (i, alpha) in CorrespondenceResult.alphas.enumerated() {
            perPoint[CorrespondenceResult.key(alpha)] = Double(pairs.reduce(0) { $0 + $1.correct[i] }) / Double(points)
            perImage[CorrespondenceResult.key(alpha)] = pairs.map { Double($0.correct[i]) / Double($0.points) }.reduce(0, +) / Double(pairs.count)
        }
        return PCKScores(pairs: pairs.count, points: points, perPoint: perPoint, perImage: perImage)
    }
}

extension CorrespondenceResult {
    /// `categories.csv`: one row per category, then the pooled row `all`.
    public func categoriesCSV() -> CSVWriter {
        var csv = CSVWriter(header: ["category", "pairs", "points"] + Self.alphas.flatMap { ["pck_point@\($0)", "pck_image@\($0)"] })
        for (name, s) in categories.sorted(by: { $0.key < $1.key }) + [("all", overall)] {
            csv.row([.text(name), .int(s.pairs), .int(s.points)]
                    + Self.alphas.flatMap { [CSVCell.number(s.perPoint[Self.key($0)] ?? 0), .number(s.perImage[Self.key($0)] ?? 0)] })
        }
        return csv
    }
}
