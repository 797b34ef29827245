import CSegKernels
import Foundation
import Heads
import Support

/// How the depth bins are spread over [minDepth, maxDepth] (Meta's `bins_strategy`).
public enum DepthBinsStrategy: String, Codable, Sendable, CaseIterable { case linear, log }

/// How a cell's bin logits become weights (Meta's `norm_strategy`): relu(z) + 0.1 over its sum,
/// softmax, or sigmoid over its sum.
public enum DepthNormStrategy: String, Codable, Sendable, CaseIterable { case linear, softmax, sigmoid }

/// The depth head's recipe; the defaults are Meta's `config-nyu.yaml`.
public struct DepthHeadRecipe: Codable, Sendable, Equatable {
    public var bins: Int = 256
    public var minDepth: Float = 0.001
    public var maxDepth: Float = 10
    public var binsStrategy: DepthBinsStrategy = .linear
    public var normStrategy: DepthNormStrategy = .linear

    public init(bins: Int = 256, minDepth: Float = 0.001, maxDepth: Float = 10,
                binsStrategy: DepthBinsStrategy = .linear, normStrategy: DepthNormStrategy = .linear) {
        (self.bins, self.minDepth, self.maxDepth) = (bins, minDepth, maxDepth)
        (self.binsStrategy, self.normStrategy) = (binsStrategy, normStrategy)
    }

    /// Throws unless 2 <= bins <= 4096 and 0 < minDepth < maxDepth, both finite.
    public func validate() throws {
        guard (2...4096).contains(bins) else { throw HeadError.invalidArgument(what: "depth bins", detail: "\(bins) is not in 2...4096") }
        guard minDepth > 0, minDepth < maxDepth, maxDepth.isFinite else {
            throw HeadError.invalidArgument(what: "depth range", detail: "[\(minDepth), \(maxDepth)] must have 0 < min < max, both finite")
        }
    }

    /// The bin centres as `torch.linspace` gives them in float32 (the log strategy: exp of a
    /// linspace between the logs).
    public var centres: [Float] {
        let (start, end) = binsStrategy == .log ? (Float(log(Double(minDepth))), Float(log(Double(maxDepth)))) : (minDepth, maxDepth)
        let step = (end - start) / Float(bins - 1)
        let values = (0..<bins).map { i in i < bins / 2 ? start + step * Float(i) : end - step * Float(bins - 1 - i) }
        return binsStrategy == .log ? values.map { Float(exp(Double($0))) } : values
    }

    var cNorm: dp_depth_norm {
        switch normStrategy {
        case .linear: DP_DEPTH_NORM_LINEAR
        case .softmax: DP_DEPTH_NORM_SOFTMAX
        case .sigmoid: DP_DEPTH_NORM_SIGMOID
        }
    }
}

/// Meta's linear depth probe (dinov3/eval/depth: `LinearHead` with `use_batchnorm`, then
/// `FeaturesToDepth`) on patch features [B, h, w, C] (C = dim x layers, channels-last):
/// BatchNorm(C) -> 1x1 conv to `bins` logits (N(0, 0.01) weights, zero bias) -> per-cell weights
/// by the norm strategy -> depth = Σ weights x bin centres, one value per patch-grid cell. Training
/// upsamples that depth bilinearly (align_corners false) to the label size and scores it with
/// `SigLoss`, whose warm-up counter is part of the head's training state.
///
/// Parameter names are Meta's state-dict names: `batchnorm_layer.{weight, bias, running_mean,
/// running_var, num_batches_tracked}`, `conv_depth.weight` [bins, C, 1, 1], `conv_depth.bias`.
public struct DepthHead: Sendable {
    public typealias Batch = PatchBatch<Float>
    public let recipe: DepthHeadRecipe
    /// C, the feature width.
    public let dim: Int
    /// [bins, dim] row-major.
    public var convWeight: [Float]
    /// [bins].
    public var convBias: [Float]
    public var batchNorm: BatchNorm
    /// The training loss (and its warm-up counter).
    public var loss = SigLoss()
    public var metadata: HeadMetadata
    /// The vector kernels' ISA (not saved with the head).
    public var kernel: SoftmaxKernel = .automatic
    /// The bin centres of `recipe`.
    public let centres: [Float]

    /// A new head on features of width `channels`: conv weight ~ N(0, 0.01²) from `random`, bias 0,
    /// batch norm at PyTorch's initial state; `metadata.kind` becomes `.depth`.
    public init(channels: Int, recipe: DepthHeadRecipe, metadata: HeadMetadata, random: inout SeededRandom) throws {
        guard channels > 0, channels <= 1 << 20 else { throw HeadError.invalidArgument(what: "feature width", detail: "\(channels) is not in 1...\(1 << 20)") }
        try recipe.validate()
        var metadata = metadata
        metadata.kind = .depth
        try self.init(convWeight: random.normals(count: recipe.bins * channels, std: 0.01), convBias: [Float](repeating: 0, count: recipe.bins),
                      batchNorm: try BatchNorm(channels: channels), recipe: recipe, metadata: metadata)
    }

    /// A head with the given parameters (`convWeight` [bins, channels]), checked.
    public init(convWeight: [Float], convBias: [Float], batchNorm: BatchNorm, recipe: DepthHeadRecipe, metadata: HeadMetadata) throws {
        try recipe.validate()
        let d = batchNorm.channels
        guard convBias.count == recipe.bins, convWeight.count == recipe.bins * d else {
            throw HeadError.invalidArgument(what: "depth head parameters", detail: "conv weight must be \(recipe.bins) x \(d) and bias \(recipe.bins)")
        }
        guard metadata.kind == .depth else { throw HeadError.invalidArgument(what: "metadata", detail: "kind \(metadata.kind.rawValue) is not depth") }
        (self.recipe, self.dim, self.convWeight, self.convBias, self.batchNorm) = (recipe, d, convWeight, convBias, batchNorm)
        (self.metadata, centres) = (metadata, recipe.centres)
    }

    func checkFeatures(_ features: [Float], batch: Int, height: Int, width: Int) throws {
        guard convWeight.count == recipe.bins * dim, convBias.count == recipe.bins, batchNorm.channels == dim else {
            throw HeadError.invalidArgument(what: "depth head parameters", detail: "conv weight must be \(recipe.bins) x \(dim)")
        }
        guard batch > 0, height > 0, width > 0, features.count == batch * height * width * dim else {
            throw HeadError.invalidArgument(what: "features", detail: "\(features.count) values are not [\(batch), \(height), \(width), \(dim)] (is this the head's feature recipe?)")
        }
    }

    /// `x` [rows, dim] times `weight`ᵀ ([bins, dim]): the bin logits without their bias.
    func binLogits(_ x: [Float], rows: Int, weight: [Float]) -> [Float] {
        let (k, d) = (recipe.bins, dim)
        return [Float](unsafeUninitializedCapacity: rows * k) { z, count in
            x.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { w in BLAS.gemm(xp.baseAddress!, w.baseAddress!, transposeB: true, into: z.baseAddress!, m: rows, n: k, k: d) }
            }
            count = rows * k
        }
    }

    /// Each row of `logits` [rows, bins] plus `bias` to its depth, the rows split over the cores.
    func depths(_ logits: [Float], rows: Int, bias: [Float]) -> [Float] {
        var depth = [Float](repeating: 0, count: rows)
        let (k, norm, kernel) = (recipe.bins, recipe.cNorm, kernel.c)
        logits.withUnsafeBufferPointer { z in
            depth.withUnsafeMutableBufferPointer { out in
                centres.withUnsafeBufferPointer { c in
                    bias.withUnsafeBufferPointer { b in
                        let p = SendablePointers(z: z.baseAddress!, depth: out.baseAddress!, centres: c.baseAddress!, bias: b.baseAddress!)
                        Self.chunks(rows) { range in
                            dp_depth_bins_forward(kernel, p.z + range.lowerBound * k, p.bias, range.count, k, p.centres, norm, p.depth + range.lowerBound)
                        }
                    }
                }
            }
        }
        return depth
    }

    /// Runs `body` on about two ranges per core covering 0..<rows.
    static func chunks(_ rows: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let parts = max(1, min(rows, 2 * ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: parts) { i in body((rows * i / parts)..<(rows * (i + 1) / parts)) }
    }
}

/// Pointers the per-chunk workers share; each writes only its own rows.
struct SendablePointers: @unchecked Sendable {
    let z: UnsafeMutablePointer<Float>
    let depth: UnsafeMutablePointer<Float>
    let centres: UnsafePointer<Float>
    let bias: UnsafePointer<Float>

    init(z: UnsafePointer<Float>, depth: UnsafeMutablePointer<Float>, centres: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        (self.z, self.depth, self.centres, self.bias) = (UnsafeMutablePointer(mutating: z), depth, centres, bias)
    }
}

extension DepthHead: DenseHead {
    /// One value per pixel: the depth.
    public var channels: Int { 1 }

    /// Inference mode (running statistics): depth in metres on the patch grid, [batch, height, width, 1].
    public func logits(features: [Float], batch: Int, height: Int, width: Int) throws -> [Float] {
        try checkFeatures(features, batch: batch, height: height, width: width)
        let (w, b) = NormalizedConv.folded(weight: convWeight, bias: convBias, batchNorm: batchNorm)
        let rows = batch * height * width
        return depths(binLogits(features, rows: rows, weight: w), rows: rows, bias: b)
    }
}
