import COpenBLAS

/// Row-major matrix products through OpenBLAS `cblas_sgemm`/`cblas_dgemm`, the one place the heads multiply
/// matrices. Callers own the buffers and their sizes (these helpers do not check them).
public enum BLAS {
    /// `c[m, n] = alpha * op(a) * op(b) + beta * c`, all row-major and contiguous, in Float
    /// (`cblas_sgemm`) or Double (`cblas_dgemm`).
    /// `op(a)` is [m, k]: `a` is stored [m, k], or [k, m] when `transposeA`.
    /// `op(b)` is [k, n]: `b` is stored [k, n], or [n, k] when `transposeB`.
    public static func gemm<T: BLASElement>(
        _ a: UnsafePointer<T>, transposeA: Bool = false,
        _ b: UnsafePointer<T>, transposeB: Bool = false,
        into c: UnsafeMutablePointer<T>,
        m: Int, n: Int, k: Int, alpha: T = 1, beta: T = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // An empty sum: c = beta * c.
            for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
            return
        }
        T.cblasGemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(transposeA ? m : k), b, blasint(transposeB ? k : n),
                    beta, c, blasint(n))
    }

    /// `x[m, n] * w[n_out, n]ᵀ + bias` into `y[m, n_out]`: the forward pass of a linear layer
    /// with PyTorch's [out, in] weight layout.
    public static func linear(
        _ x: UnsafePointer<Float>, rows m: Int, inputs n: Int,
        weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        if let bias {
            for i in 0..<m { (y + i * outputs).update(from: bias, count: outputs) }
            gemm(x, w, transposeB: true, into: y, m: m, n: outputs, k: n, beta: 1)
        } else {
            gemm(x, w, transposeB: true, into: y, m: m, n: outputs, k: n)
        }
    }

    /// Gradients of `y = x wᵀ + b` given `dy[m, outputs]`: `dw[outputs, n] = dyᵀ x` and
    /// `db[outputs] = column sums of dy`, each with one BLAS call. With `accumulate`, adds to
    /// `dw`/`db` instead of overwriting them.
    public static func linearBackward(
        _ x: UnsafePointer<Float>, rows m: Int, inputs n: Int,
        outputGradient dy: UnsafePointer<Float>, outputs: Int,
        weightGradient dw: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
        accumulate: Bool = false
    ) {
        gemm(dy, transposeA: true, x, into: dw, m: outputs, n: n, k: m, beta: accumulate ? 1 : 0)
        columnSums(dy, rows: m, columns: outputs, into: db, accumulate: accumulate)
    }

    /// `linear` on arrays: `y = x wᵀ + b`, [rows, outputs], for `x` [rows, inputs], `w`
    /// [outputs, inputs] and `b` [outputs].
    static func linearOutput(input x: [Float], rows m: Int, inputs n: Int, weight w: [Float], bias b: [Float], outputs: Int) -> [Float] {
        var y = [Float](repeating: 0, count: m * outputs)
        guard m > 0, outputs > 0 else { return y }
        precondition(x.count >= m * n && w.count >= outputs * n && b.count >= outputs, "linearOutput: arrays smaller than their shapes")
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        linear(xp.baseAddress!, rows: m, inputs: n, weight: wp.baseAddress!, bias: bp.baseAddress!,
                               outputs: outputs, into: yp.baseAddress!)
                    }
                }
            }
        }
        return y
    }

    /// `linearBackward` on arrays: the weight gradient [outputs, inputs] and bias gradient
    /// [outputs] of `y = x wᵀ + b` for `x` [rows, inputs] and `dy` [rows, outputs].
    static func linearGradients(input x: [Float], rows m: Int, inputs n: Int,
                                       outputGradient dy: [Float], outputs: Int) -> (weight: [Float], bias: [Float]) {
        var dW = [Float](repeating: 0, count: outputs * n), dB = [Float](repeating: 0, count: outputs)
        guard m > 0, n > 0, outputs > 0 else { return (dW, dB) }
        precondition(x.count >= m * n && dy.count >= m * outputs, "linearGradients: arrays smaller than their shapes")
        x.withUnsafeBufferPointer { xp in
            dy.withUnsafeBufferPointer { dyp in
                dW.withUnsafeMutableBufferPointer { dw in
                    dB.withUnsafeMutableBufferPointer { db in
                        linearBackward(xp.baseAddress!, rows: m, inputs: n, outputGradient: dyp.baseAddress!, outputs: outputs,
                                       weightGradient: dw.baseAddress!, biasGradient: db.baseAddress!)
                    }
                }
            }
        }
        return (dW, dB)
    }

    /// Column sums of a row-major [rows, columns] matrix (`cblas_sgemv` against a vector of ones).
    public static func columnSums(
        _ a: UnsafePointer<Float>, rows: Int, columns: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        guard columns > 0 else { return }
        guard rows > 0 else {
            if !accumulate { out.update(repeating: 0, count: columns) }
            return
        }
        if !accumulate { out.update(repeating: 0, count: columns) }
        let ones = [Float](repeating: 1, count: rows)
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, a, Int32(columns),
                    ones, 1, 1, out, 1)
    }
}

/// The element types the BLAS helpers take: Float (`cblas_s*`) and Double (`cblas_d*`).
public protocol BLASElement: BinaryFloatingPoint {
    /// `cblas_sgemm` or `cblas_dgemm`.
    static var cblasGemm: CBLASGemm<Self> { get }
}

/// The signature of `cblas_?gemm`.
public typealias CBLASGemm<T> = (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, T, UnsafePointer<T>?, blasint,
                                 UnsafePointer<T>?, blasint, T, UnsafeMutablePointer<T>?, blasint) -> Void

extension Float: BLASElement { public static var cblasGemm: CBLASGemm<Float> { cblas_sgemm } }
extension Double: BLASElement { public static var cblasGemm: CBLASGemm<Double> { cblas_dgemm } }
