import COpenBLAS
import Foundation
import Support

/// Spherical k-means on L2-normalised vectors (cosine similarity), k-means++ initialisation from a
/// seed: a segmentation of patches into K groups that the frozen features themselves suggest.
public struct KMeans: Sendable {
    /// Centroids [k, dim], unit length.
    public let centroids: [Float]
    /// Cluster of each input vector.
    public let assignments: [Int]
    public let k: Int
    public let dim: Int

    public init(vectors: [Float], count n: Int, dim: Int, k: Int, seed: UInt64 = 0, iterations: Int = 50) throws {
        guard k >= 2, n >= k, vectors.count == n * dim else {
            throw HeadError.invalidArgument(what: "k-means input", detail: "\(k) clusters need at least \(k) vectors (got \(n))")
        }
        self.k = k
        self.dim = dim
        let x = RowNormaliser.l2(vectors, dim: dim)
        var random = SeededRandom(seed: seed)
        // k-means++ with distance 1 - cos.
        var centres = [Float](repeating: 0, count: k * dim)
        let first = Int(random.uniform() * Float(n)) % n
        for d in 0..<dim { centres[d] = x[first * dim + d] }
        var best = [Float](repeating: .infinity, count: n)
        for c in 1..<k {
            var total: Float = 0
            for i in 0..<n {
                var dot: Float = 0
                for d in 0..<dim { dot += x[i * dim + d] * centres[(c - 1) * dim + d] }
                best[i] = min(best[i], max(0, 1 - dot))
                total += best[i]
            }
            var target = random.uniform() * total
            var pick = n - 1
            for i in 0..<n { target -= best[i]; if target <= 0 { pick = i; break } }
            for d in 0..<dim { centres[c * dim + d] = x[pick * dim + d] }
        }
        var assign = [Int](repeating: 0, count: n)
        var sims = [Float](repeating: 0, count: n * k)
        for _ in 0..<iterations {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(dim), 1, x, Int32(dim),
                        centres, Int32(dim), 0, &sims, Int32(k))
            var changed = false
            for i in 0..<n {
                var bestC = 0
                for c in 1..<k where sims[i * k + c] > sims[i * k + bestC] { bestC = c }
                if assign[i] != bestC { assign[i] = bestC; changed = true }
            }
            var sums = [Float](repeating: 0, count: k * dim)
            for i in 0..<n { for d in 0..<dim { sums[assign[i] * dim + d] += x[i * dim + d] } }
            for c in 0..<k {
                var norm: Float = 0
                for d in 0..<dim { norm += sums[c * dim + d] * sums[c * dim + d] }
                guard norm > 0 else { continue }  // an empty cluster keeps its centre
                for d in 0..<dim { centres[c * dim + d] = sums[c * dim + d] / norm.squareRoot() }
            }
            if !changed { break }
        }
        centroids = centres
        assignments = assign
    }

    /// Cosine similarity of each row of `vectors` [n, dim] to each centroid: [n, k].
    public func similarities(_ vectors: [Float], count n: Int) throws -> [Float] {
        try require(vectors.count == n * dim, "k-means input", "\(vectors.count) values are not \(n) rows of width \(dim)")
        let x = RowNormaliser.l2(vectors, dim: dim)
        var out = [Float](repeating: 0, count: n * k)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(dim), 1, x, Int32(dim),
                    centroids, Int32(dim), 0, &out, Int32(k))
        return out
    }
}
