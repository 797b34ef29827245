import COpenBLAS
import Foundation

/// Principal components of patch features, as Meta's DINOv3 notebook shows them: the first three
/// whitened components through sigmoid(2x) become R, G and B.
public struct PatchPCA: Sendable {
    /// Mean feature [dim].
    public let mean: [Float]
    /// Components [k, dim], unit length, by decreasing variance.
    public let components: [Float]
    /// Variance along each component.
    public let variances: [Float]
    public let dim: Int
    public var k: Int { variances.count }

    /// Fits `k` components to `features` [n, dim] (power iteration with deflation on the covariance).
    public init(features: [Float], count n: Int, dim: Int, k: Int = 3, iterations: Int = 200) throws {
        guard n >= 2, dim >= k, features.count == n * dim else {
            throw HeadError.invalidArgument(what: "PCA input", detail: "at least 2 feature vectors of width >= \(k) are needed")
        }
        self.dim = dim
        var mean = [Float](repeating: 0, count: dim)
        for i in 0..<n { for d in 0..<dim { mean[d] += features[i * dim + d] } }
        for d in 0..<dim { mean[d] /= Float(n) }
        var centred = features
        for i in 0..<n { for d in 0..<dim { centred[i * dim + d] -= mean[d] } }
        // Covariance C = Xᵀ X / (n - 1), [dim, dim].
        var cov = [Float](repeating: 0, count: dim * dim)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(dim), Int32(dim), Int32(n), 1 / Float(n - 1),
                    centred, Int32(dim), centred, Int32(dim), 0, &cov, Int32(dim))
        var components: [Float] = [], variances: [Float] = []
        var v = [Float](repeating: 0, count: dim), w = v
        for c in 0..<k {
            for d in 0..<dim { v[d] = Float(sin(Double(d * 7 + c * 13 + 1))) }  // deterministic start
            var lambda: Float = 0
            for _ in 0..<iterations {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(dim), Int32(dim), 1, cov, Int32(dim), v, 1, 0, &w, 1)
                let norm = cblas_snrm2(Int32(dim), w, 1)
                guard norm > 1e-20 else { break }
                lambda = norm
                for d in 0..<dim { v[d] = w[d] / norm }
            }
            // Deflate: C -= lambda v vᵀ.
            cblas_sger(CblasRowMajor, Int32(dim), Int32(dim), -lambda, v, 1, v, 1, &cov, Int32(dim))
            // Sign convention: the largest-magnitude coordinate is positive (stable colours).
            if let m = v.indices.max(by: { abs(v[$0]) < abs(v[$1]) }), v[m] < 0 { for d in 0..<dim { v[d] = -v[d] } }
            components += v
            variances.append(lambda)
        }
        (self.mean, self.components, self.variances) = (mean, components, variances)
    }

    /// Projections [n, k] of `features` [n, dim], whitened (unit variance per component).
    public func project(_ features: [Float], count n: Int) -> [Float] {
        var centred = features
        for i in 0..<n { for d in 0..<dim { centred[i * dim + d] -= mean[d] } }
        var out = [Float](repeating: 0, count: n * k)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(dim), 1, centred, Int32(dim),
                    components, Int32(dim), 0, &out, Int32(k))
        for i in 0..<n { for c in 0..<k { out[i * k + c] /= max(variances[c].squareRoot(), 1e-12) } }
        return out
    }

    /// RGB bytes [n, 3] of the first three whitened components mapped through sigmoid(2x).
    public func colours(_ features: [Float], count n: Int) -> [UInt8] {
        let p = project(features, count: n)
        var rgb = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            for c in 0..<3 {
                let x = c < k ? p[i * k + c] : 0
                rgb[i * 3 + c] = UInt8(max(0, min(255, (255 / (1 + exp(-2 * x))).rounded())))
            }
        }
        return rgb
    }
}
