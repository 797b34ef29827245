import Foundation

/// scikit-learn's L2-regularised logistic-regression objective, in Double, on `count` rows of
/// `dim` features:
///
///     f(W, b) = (1/n) Σ_i CE(W x_i + b, y_i) + ||W||² / (2 C n),
///
/// whose minimiser is that of C Σ_i CE_i + ½ ||W||² (the bias is not penalised); sklearn scales
/// it by 1/n the same way, so the same gradient tolerance means the same. With more than two
/// classes CE is the softmax cross-entropy over one row of W per class; with two it is sklearn's
/// binomial form, one row w whose logit w·x + b is class 1's against 0 for class 0.
///
/// Parameters are `[rows x dim weights, row-major | rows biases]`. The features are held in
/// Double once; each evaluation streams them in blocks of rows, with both matrix products of a
/// block (logits = X_b Wᵀ and the gradient Gᵀ X_b) done by `cblas_dgemm` while the block is in
/// cache, the rows split between `threads` workers in a fixed order (results do not depend on
/// timing).
final class LogisticObjective: @unchecked Sendable {
    let count: Int
    let dim: Int
    /// Classes (2 or more; labels are 0..<classes).
    let classes: Int
    /// Rows of W: `classes`, or 1 for two classes.
    let rows: Int
    let threads: Int
    private let features: [Double]
    private let labels: [Int]
    private let blockRows: Int

    var parameterCount: Int { rows * (dim + 1) }
    var binary: Bool { classes == 2 }

    /// `features` [labels.count, dim]; `labels` in 0..<classes (callers check them).
    init(features: [Float], labels: [Int], classes: Int, dim: Int, threads: Int) {
        self.count = labels.count
        self.dim = dim
        self.classes = classes
        self.rows = classes == 2 ? 1 : classes
        self.threads = max(1, min(threads, max(1, labels.count / 64)))
        self.features = features.map(Double.init)
        self.labels = labels
        // Blocks small enough for one core's cache and for OpenBLAS to run each product on the
        // calling thread (it splits products above 2^18 multiply-adds across its own threads).
        self.blockRows = max(8, min(256, (1 << 18) / max(1, rows * dim)))
    }

    /// f at `p`, with its gradient written into `gradient`; `penalty` = 1 / (C n).
    func value(at p: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>, penalty: Double) -> Double {
        let (n, d, r) = (count, dim, rows)
        let size = parameterCount
        let chunk = (n + threads - 1) / threads
        var partial = [Double](repeating: 0, count: threads * (size + 1))
        partial.withUnsafeMutableBufferPointer { out in
            features.withUnsafeBufferPointer { x in
                let shared = WorkerPointers(x: x.baseAddress!, p: p.baseAddress!, out: out.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let lo = t * chunk, hi = min(n, lo + chunk)
                    guard lo < hi else { return }
                    let part = shared.out + t * (size + 1)
                    part[size] = accumulate(rows: lo..<hi, x: shared.x, parameters: shared.p, into: part)
                }
            }
        }
        // Combine the workers' sums in order, then add the penalty.
        let scale = 1 / Double(n)
        var loss = 0.0
        for i in 0..<size { gradient[i] = 0 }
        for t in 0..<threads {
            let base = t * (size + 1)
            for i in 0..<size { gradient[i] += partial[base + i] }
            loss += partial[base + size]
        }
        var squares = 0.0
        for i in 0..<size {
            gradient[i] *= scale
            if i < r * d {
                gradient[i] += penalty * p[i]
                squares += p[i] * p[i]
            }
        }
        return loss * scale + 0.5 * penalty * squares
    }

    /// The buffers the workers share: each reads the features and parameters, and writes only
    /// its own slice of `out` (gradient sums, then the loss sum).
    private struct WorkerPointers: @unchecked Sendable {
        let x: UnsafePointer<Double>
        let p: UnsafePointer<Double>
        let out: UnsafeMutablePointer<Double>
    }

    /// Sums over `range` of the cross-entropy (returned) and of its gradient (into `gradient`,
    /// which starts at zero), block by block.
    private func accumulate(rows range: Range<Int>, x: UnsafePointer<Double>, parameters p: UnsafePointer<Double>,
                            into gradient: UnsafeMutablePointer<Double>) -> Double {
        let (d, r) = (dim, rows)
        let bias = p + r * d
        let logits = UnsafeMutablePointer<Double>.allocate(capacity: blockRows * r)
        defer { logits.deallocate() }
        var loss = 0.0
        var start = range.lowerBound
        while start < range.upperBound {
            let m = min(blockRows, range.upperBound - start)
            let block = x + start * d
            for i in 0..<m { (logits + i * r).update(from: bias, count: r) }
            BLAS.gemm(block, p, transposeB: true, into: logits, m: m, n: r, k: d, beta: 1)
            for i in 0..<m {
                loss += Self.lossAndResidual(logits + i * r, label: labels[start + i], rows: r, binary: binary)
            }
            // The gradient of a block: residualsᵀ X_b, and the residuals' column sums for the bias.
            BLAS.gemm(logits, transposeA: true, block, into: gradient, m: r, n: d, k: m, beta: 1)
            for i in 0..<m {
                for c in 0..<r { gradient[r * d + c] += logits[i * r + c] }
            }
            start += m
        }
        return loss
    }

    /// The cross-entropy of one row of logits against `label`; the logits are replaced by the
    /// residuals p - onehot(label) (the gradient of the loss with respect to them).
    @inline(__always)
    static func lossAndResidual(_ z: UnsafeMutablePointer<Double>, label: Int, rows: Int, binary: Bool) -> Double {
        if binary {
            // log(1 + e^z) - y z, and sigmoid(z) - y, computed without overflow.
            let v = z[0], y = Double(label)
            let softplus = v > 0 ? v + log1p(exp(-v)) : log1p(exp(v))
            let sigmoid = v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v))
            z[0] = sigmoid - y
            return softplus - y * v
        }
        var top = z[0]
        for c in 1..<rows where z[c] > top { top = z[c] }
        var sum = 0.0
        for c in 0..<rows { sum += exp(z[c] - top) }
        let lse = top + log(sum)
        let loss = lse - z[label]
        for c in 0..<rows { z[c] = exp(z[c] - lse) }
        z[label] -= 1
        return loss
    }
}
