import Dispatch
import Foundation

/// What a training-mode batch-norm forward keeps for its backward pass.
public struct BatchNormCache: Sendable {
    /// Rows normalised with the batch statistics, `(x - mean) / sqrt(variance + eps)`, [rows, channels].
    public var normalized: [Float]
    /// Batch mean per channel.
    public var mean: [Float]
    /// Batch variance per channel, biased (divided by rows), as used for normalising.
    public var variance: [Float]
    /// `1 / sqrt(variance + eps)` per channel.
    public var inverseStd: [Float]
    /// Rows in the batch (B*h*w for feature maps).
    public var rows: Int
}

/// Batch normalisation over the last axis of [rows, channels] data, as PyTorch `BatchNorm2d`
/// applied to [B, C, h, w] (rows = B*h*w): training mode normalises with the batch statistics
/// (biased variance) and updates the running statistics with `momentum` using the unbiased
/// variance; inference mode uses the running statistics. Statistics are accumulated in Double.
public struct BatchNorm: Sendable {
    /// C.
    public let channels: Int
    /// γ, [channels] (PyTorch `weight`), 1 initially.
    public var weight: [Float]
    /// β, [channels] (PyTorch `bias`), 0 initially.
    public var bias: [Float]
    /// 0 initially.
    public var runningMean: [Float]
    /// 1 initially.
    public var runningVar: [Float]
    /// Training-mode forward passes applied to the running statistics (PyTorch `num_batches_tracked`).
    public var batchesTracked: Int = 0
    public var momentum: Float = 0.1
    public var eps: Float = 1e-5

    public init(channels: Int) throws {
        try require(channels > 0, "batch-norm channels", "must be positive, got \(channels)")
        self.channels = channels
        weight = [Float](repeating: 1, count: channels)
        bias = [Float](repeating: 0, count: channels)
        runningMean = [Float](repeating: 0, count: channels)
        runningVar = [Float](repeating: 1, count: channels)
    }

    private func checkRows(_ x: [Float], rows: Int, what: String) throws {
        try require(weight.count == channels && bias.count == channels && runningMean.count == channels
                    && runningVar.count == channels, "batch-norm parameters", "each must have \(channels) values")
        try require(rows >= 0 && x.count == rows * channels, what, "\(x.count) values are not \(rows) rows of \(channels) channels")
    }

    /// Training-mode forward of `x` [rows, channels]: the output (empty unless `output`; the
    /// cache's normalised rows are enough when the next layer folds γ and β in) and the cache
    /// for `backward`. Needs at least 2 rows (as PyTorch).
    public func forwardTraining(_ x: [Float], rows: Int, output withOutput: Bool = true) throws -> (output: [Float], cache: BatchNormCache) {
        try checkRows(x, rows: rows, what: "batch-norm input")
        try require(rows > 1, "batch-norm batch", "training needs more than 1 value per channel, got \(rows) rows")
        let c = channels
        var normalized = [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count }
        var output = [Float](repeating: 0, count: withOutput ? x.count : 0)
        var mean = [Float](repeating: 0, count: c), variance = mean, inverseStd = mean
        x.withUnsafeBufferPointer { xp in
            let meanD = Self.columnSums(xp.baseAddress!, rows: rows, columns: c, centre: nil).map { $0 / Double(rows) }
            let squares = Self.columnSums(xp.baseAddress!, rows: rows, columns: c, centre: meanD)
            for d in 0..<c {
                let v = squares[d] / Double(rows)
                mean[d] = Float(meanD[d])
                variance[d] = Float(v)
                inverseStd[d] = Float(1 / (v + Double(eps)).squareRoot())
            }
            normalized.withUnsafeMutableBufferPointer { np in
                output.withUnsafeMutableBufferPointer { op in
                    let (source, target, out) = (RowPointer(xp.baseAddress!), RowPointer(np.baseAddress!), withOutput ? RowPointer(op.baseAddress!) : nil)
                    let (m, s, gamma, beta) = (mean, inverseStd, weight, bias)
                    Self.rowChunks(rows) { _, range in
                        for i in range {
                            let row = source.at(i * c), n = target.at(i * c)
                            for d in 0..<c { n[d] = (row[d] - m[d]) * s[d] }
                            if let o = out?.at(i * c) { for d in 0..<c { o[d] = gamma[d] * n[d] + beta[d] } }
                        }
                    }
                }
            }
        }
        return (output, BatchNormCache(normalized: normalized, mean: mean, variance: variance, inverseStd: inverseStd, rows: rows))
    }

    /// Chunks of rows (a fixed split, so results do not depend on the core count) run in parallel.
    static func rowChunks(_ rows: Int, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) {
        let parts = min(rows, 8)
        DispatchQueue.concurrentPerform(iterations: parts) { p in body(p, (rows * p / parts)..<(rows * (p + 1) / parts)) }
    }

    /// Per column of x [rows, columns]: the sum of the values, or with `centre` of their squared
    /// distances to it, in Double; each chunk of rows summed on its own, the chunks added in order.
    static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns c: Int, centre: [Double]?) -> [Double] {
        let parts = min(rows, 8)
        var partial = [Double](repeating: 0, count: parts * c)
        let zero = [Double](repeating: 0, count: c)
        partial.withUnsafeMutableBufferPointer { out in
            let (source, sums) = (RowPointer(x), RowPointer(out.baseAddress!))
            let shift = centre ?? zero, square = centre != nil
            rowChunks(rows) { p, range in
                let acc = sums.at(p * c)
                for i in range {
                    let row = source.at(i * c)
                    if square {
                        for d in 0..<c { let v = Double(row[d]) - shift[d]; acc[d] += v * v }
                    } else {
                        for d in 0..<c { acc[d] += Double(row[d]) }
                    }
                }
            }
        }
        return (0..<c).map { d in (0..<parts).reduce(0.0) { $0 + partial[$1 * c + d] } }
    }

    /// Training-mode backward: gradients with respect to the input (when `input` is true),
    /// γ and β, given the output gradient `dy` [rows, channels].
    public func backward(_ dy: [Float], cache: BatchNormCache, input: Bool = true) throws
        -> (input: [Float]?, weight: [Float], bias: [Float]) {
        try checkRows(dy, rows: cache.rows, what: "batch-norm output gradient")
        let (rows, c) = (cache.rows, channels)
        var dGammaD = [Double](repeating: 0, count: c), dBetaD = dGammaD
        dy.withUnsafeBufferPointer { g in
            cache.normalized.withUnsafeBufferPointer { n in
                for i in 0..<rows {
                    let gr = g.baseAddress! + i * c, nr = n.baseAddress! + i * c
                    for d in 0..<c {
                        dGammaD[d] += Double(gr[d] * nr[d])
                        dBetaD[d] += Double(gr[d])
                    }
                }
            }
        }
        let dGamma = dGammaD.map { Float($0) }, dBeta = dBetaD.map { Float($0) }
        guard input else { return (nil, dGamma, dBeta) }
        // dx = γ/σ * (dy - mean(dy) - x̂ * mean(dy * x̂))
        let scale = (0..<c).map { weight[$0] * cache.inverseStd[$0] }
        let meanDy = dBetaD.map { Float($0 / Double(rows)) }
        let meanDyX = dGammaD.map { Float($0 / Double(rows)) }
        var dx = [Float](repeating: 0, count: dy.count)
        dy.withUnsafeBufferPointer { g in
            cache.normalized.withUnsafeBufferPointer { n in
                dx.withUnsafeMutableBufferPointer { out in
                    for i in 0..<rows {
                        let gr = g.baseAddress! + i * c, nr = n.baseAddress! + i * c, o = out.baseAddress! + i * c
                        for d in 0..<c { o[d] = scale[d] * (gr[d] - meanDy[d] - nr[d] * meanDyX[d]) }
                    }
                }
            }
        }
        return (dx, dGamma, dBeta)
    }

    /// Folds a training-mode batch into the running statistics, as PyTorch's forward does:
    /// `running = (1 - momentum) * running + momentum * batch`, with the unbiased variance.
    public mutating func updateRunningStatistics(_ cache: BatchNormCache) {
        guard cache.mean.count == channels, runningMean.count == channels, runningVar.count == channels else { return }
        let unbias = cache.rows > 1 ? Float(cache.rows) / Float(cache.rows - 1) : 1
        for d in 0..<channels {
            runningMean[d] = (1 - momentum) * runningMean[d] + momentum * cache.mean[d]
            runningVar[d] = (1 - momentum) * runningVar[d] + momentum * cache.variance[d] * unbias
        }
        batchesTracked += 1
    }

    /// Inference mode as a per-channel affine map `y = scale * x + shift`.
    /// Channels beyond the parameters' length (after an invalid edit) map to 0.
    public var inferenceScaleShift: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        let valid = min(channels, weight.count, bias.count, runningMean.count, runningVar.count)
        for d in 0..<valid {
            scale[d] = weight[d] / (runningVar[d] + eps).squareRoot()
            shift[d] = bias[d] - runningMean[d] * scale[d]
        }
        return (scale, shift)
    }

    /// Inference-mode forward of `x` [rows, channels] (running statistics).
    public func forwardInference(_ x: [Float], rows: Int) throws -> [Float] {
        try checkRows(x, rows: rows, what: "batch-norm input")
        let (scale, shift) = inferenceScaleShift
        var y = x
        for i in 0..<rows { for d in 0..<channels { y[i * channels + d] = scale[d] * x[i * channels + d] + shift[d] } }
        return y
    }
}

extension BatchNorm: Resumable {
    /// Saves `weight`, `bias`, `running_mean`, `running_var` and `num_batches_tracked` under `prefix.`.
    public func save(into state: inout TrainingState, as prefix: String) {
        state.floats[prefix + ".weight"] = weight
        state.floats[prefix + ".bias"] = bias
        state.floats[prefix + ".running_mean"] = runningMean
        state.floats[prefix + ".running_var"] = runningVar
        state.integers[prefix + ".num_batches_tracked"] = [Int64(batchesTracked)]
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        weight = try state.floats(prefix + ".weight", count: channels)
        bias = try state.floats(prefix + ".bias", count: channels)
        runningMean = try state.floats(prefix + ".running_mean", count: channels)
        runningVar = try state.floats(prefix + ".running_var", count: channels)
        let tracked = try state.integers(prefix + ".num_batches_tracked", count: 1)[0]
        guard tracked >= 0 else { throw HeadError.badTrainingState(path: "", reason: "negative batch count") }
        batchesTracked = Int(tracked)
    }
}

/// A buffer that parallel workers write in disjoint parts.
struct RowPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    init(_ base: UnsafePointer<Element>) { self.base = UnsafeMutablePointer(mutating: base) }
    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
    func at(_ offset: Int) -> UnsafeMutablePointer<Element> { base + offset }
}
