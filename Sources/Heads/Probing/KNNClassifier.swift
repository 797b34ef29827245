import COpenBLAS
import Evaluation
import Foundation

/// Weighted k-nearest-neighbour classifier on frozen features (docs/protocols.md, section 3, the
/// DINO protocol): train and query features are L2-normalised, similarity is the cosine
/// (computed with `cblas_sgemm`, a chunk of queries at a time so memory stays bounded), and
/// each query's k most similar train samples vote with weights softmax(similarity / T), summed
/// per class. All ks are served by one top-max(k) search: for a smaller k the first k
/// neighbours are re-weighted with their own softmax. Equal similarities are ordered by the
/// lower train index first, so results are deterministic.
public struct KNNClassifier: Sendable {
    /// The protocol's neighbour counts.
    public static let defaultKs = [10, 20, 100, 200]

    public let ks: [Int]
    public let temperature: Float
    public let classCount: Int
    public let dim: Int
    public let trainCount: Int
    /// Most query rows per similarity block (lowered for huge train sets so that one block of
    /// similarities stays under ~256 MB).
    public let queryChunk: Int
    let train: [Float]
    let trainLabels: [Int]

    /// `trainFeatures` is `[trainLabels.count, dim]` row-major (e.g. CLS tokens); labels are in
    /// `0..<classCount`. ks larger than the train set are clamped to its size.
    public init(trainFeatures: [Float], trainLabels: [Int], dim: Int, classCount: Int,
                ks: [Int] = KNNClassifier.defaultKs, temperature: Float = 0.07, queryChunk: Int = 256) throws {
        guard dim > 0 else { throw MetricsError.badArgument("k-NN feature dimension must be positive, got \(dim)") }
        guard classCount > 0 else { throw MetricsError.badArgument("k-NN needs at least one class, got \(classCount)") }
        guard !trainLabels.isEmpty else { throw MetricsError.empty("k-NN without train samples") }
        guard trainFeatures.count == trainLabels.count * dim else {
            throw MetricsError.shapeMismatch("\(trainFeatures.count) train feature values for \(trainLabels.count) samples x \(dim) dims")
        }
        guard !ks.isEmpty else { throw MetricsError.badArgument("k-NN needs at least one k") }
        if let bad = ks.first(where: { $0 <= 0 }) { throw MetricsError.badArgument("k-NN k must be positive, got \(bad)") }
        guard temperature > 0, temperature.isFinite else {
            throw MetricsError.badArgument("k-NN temperature must be a positive number, got \(temperature)")
        }
        guard queryChunk > 0 else { throw MetricsError.badArgument("k-NN query chunk must be positive, got \(queryChunk)") }
        try ClassificationMetrics.checkRange(trainLabels, what: "train label", classCount: classCount)
        self.train = try Self.normalised(trainFeatures, dim: dim, what: "train feature")
        (self.trainLabels, self.ks, self.temperature, self.classCount) = (trainLabels, ks, temperature, classCount)
        self.dim = dim
        self.trainCount = trainLabels.count
        let budget = 64 << 20 // similarity values per block
        self.queryChunk = max(1, min(queryChunk, budget / trainLabels.count))
    }

    /// Class scores for every k in `ks` (same order): each `[n, classCount]` row-major, rows
    /// summing to 1. `queries` is `[n, dim]` row-major.
    public func classScores(queries: [Float]) throws -> [KNNScores] {
        guard queries.count % dim == 0 else {
            throw MetricsError.shapeMismatch("\(queries.count) query values is not a multiple of dim \(dim)")
        }
        let n = queries.count / dim
        let q = try Self.normalised(queries, dim: dim, what: "query feature")
        let effective = ks.map { min($0, trainCount) }
        let kMax = effective.max()!
        var scores = effective.map { _ in [Float](repeating: 0, count: n * classCount) }
        var sims = [Float](repeating: 0, count: min(queryChunk, max(n, 1)) * trainCount)
        var neighbours = KNNTopK(capacity: kMax)
        var start = 0
        while start < n {
            let rows = min(queryChunk, n - start)
            similarities(q, start: start, rows: rows, into: &sims)
            for r in 0..<rows {
                sims.withUnsafeBufferPointer { all in
                    neighbours.select(UnsafeBufferPointer(rebasing: all[(r * trainCount)..<((r + 1) * trainCount)]))
                }
                for (ki, k) in effective.enumerated() {
                    vote(neighbours.best.prefix(k), into: &scores[ki], row: start + r)
                }
            }
            start += rows
        }
        return zip(ks, effective).enumerated().map { KNNScores(k: $1.0, effectiveK: $1.1, scores: scores[$0]) }
    }

    /// Classification metrics (with top-5 when there are 5+ classes) for every k in `ks`.
    public func evaluate(queries: [Float], labels: [Int], classNames: [String]) throws -> [KNNResult] {
        guard classNames.count == classCount else {
            throw MetricsError.shapeMismatch("\(classNames.count) class names for a \(classCount)-class k-NN")
        }
        guard queries.count == labels.count * dim else {
            throw MetricsError.shapeMismatch("\(queries.count) query values for \(labels.count) labels x \(dim) dims")
        }
        return try classScores(queries: queries).map { try KNNResult($0, labels: labels, classNames: classNames) }
    }

    /// Cosine similarities of query rows start..<start+rows against all train rows.
    private func similarities(_ q: [Float], start: Int, rows: Int, into sims: inout [Float]) {
        q.withUnsafeBufferPointer { qp in
            train.withUnsafeBufferPointer { tp in
                sims.withUnsafeMutableBufferPointer { sp in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(trainCount), blasint(dim),
                                1, qp.baseAddress! + start * dim, blasint(dim), tp.baseAddress!, blasint(dim),
                                0, sp.baseAddress!, blasint(trainCount))
                }
            }
        }
    }

    /// Adds softmax(sim / T) over `neighbours` to their classes in row `row` of `scores`.
    private func vote(_ neighbours: ArraySlice<KNNTopK.Entry>, into scores: inout [Float], row: Int) {
        guard let top = neighbours.first?.similarity else { return }
        var total: Double = 0
        var weights = [Double](repeating: 0, count: classCount)
        for e in neighbours {
            let w = exp(Double(e.similarity - top) / Double(temperature))
            weights[trainLabels[e.index]] += w
            total += w
        }
        for c in 0..<classCount { scores[row * classCount + c] = Float(weights[c] / total) }
    }

    /// Row-wise L2-normalised copy (zero rows stay zero); throws on NaN or infinity.
    static func normalised(_ x: [Float], dim: Int, what: String) throws -> [Float] {
        if let bad = x.firstIndex(where: { !$0.isFinite }) {
            throw MetricsError.nonFinite(what: "\(what) (row \(bad / dim), column \(bad % dim))", index: bad / dim)
        }
        return RowNormaliser.l2(x, dim: dim)
    }
}

/// One k's k-NN class scores: `[n, classCount]` row-major; `effectiveK` is k clamped to the
/// train set size.
public struct KNNScores: Sendable, Equatable {
    public let k: Int
    public let effectiveK: Int
    public let scores: [Float]
}

/// One k's k-NN evaluation.
public struct KNNResult: Codable, Sendable, Equatable {
    public let k: Int
    public let effectiveK: Int
    public let metrics: ClassificationMetrics

    /// Scores one k's class scores against `labels`.
    public init(_ scores: KNNScores, labels: [Int], classNames: [String]) throws {
        k = scores.k
        effectiveK = scores.effectiveK
        metrics = try ClassificationMetrics(scores: scores.scores, labels: labels, classNames: classNames)
    }
}
