import Foundation
import Support

/// Loss and gradients of a `LinearSegmenter` training step, plus the batch statistics its
/// batch norm saw (for `updateRunningStatistics`).
public struct SegmenterGradients: Sendable {
    /// Mean cross-entropy over the pixels whose label is not 255 (0 when all are ignored).
    public var loss: Float
    /// Pixels that counted.
    public var validPixels: Int
    /// d/d `conv.weight`, [classes, dim].
    public var convWeight: [Float]
    /// d/d `conv.bias`, [classes].
    public var convBias: [Float]
    /// d/d `bn.weight`, [dim].
    public var bnWeight: [Float]
    /// d/d `bn.bias`, [dim].
    public var bnBias: [Float]
    /// d/d features, [batch, height, width, dim], when asked for.
    public var features: [Float]?
    /// The batch-norm statistics of this batch.
    public var batchNorm: BatchNormCache
}

/// DINOv3's linear segmentation head (docs/protocols.md, section 5) on frozen patch features
/// [B, h, w, D] (channels-last, row-major):
/// Dropout2d(0.1) -> BatchNorm(D) -> 1x1 conv (linear D -> K) -> bilinear upsampling of the
/// logits to the label size (`align_corners=False`) -> cross-entropy, ignore index 255.
///
/// Parameter names follow a PyTorch module with submodules `bn = nn.BatchNorm2d(D)` and
/// `conv = nn.Conv2d(D, K, 1)`: `conv.weight` [K, D, 1, 1], `conv.bias`, `bn.weight`, `bn.bias`,
/// `bn.running_mean`, `bn.running_var`, `bn.num_batches_tracked` (the dropout has none).
/// Labels and predictions are `UInt8` masks, so a segmenter has at most 255 classes.
///
/// Work is per batch on contiguous buffers; the upsampled logits are never held for the whole
/// batch: each output row is computed, scored and back-propagated in cache by a C kernel
/// (`SoftmaxKernel`), then dropped.
public struct LinearSegmenter: Sendable {
    /// The label of pixels that count neither in the loss nor in metrics.
    public static let ignoreIndex: UInt8 = 255

    /// K.
    public let classes: Int
    /// D.
    public let dim: Int
    /// 1x1 convolution weight, [classes, dim] row-major (saved as [K, D, 1, 1]).
    public var convWeight: [Float]
    /// [classes].
    public var convBias: [Float]
    /// The batch norm over D.
    public var batchNorm: BatchNorm
    /// Dropout2d probability in training.
    public var dropout: Float = 0.1
    /// The softmax cross-entropy kernel of training steps (not saved with the head).
    public var softmaxKernel: SoftmaxKernel = .automatic
    public var metadata: HeadMetadata

    /// A new head: conv weight ~ N(0, 0.01²) from `SeededRandom(seed:)`, bias 0, batch norm at
    /// PyTorch's initial state. Throws unless 0 < classes <= 255 and dim > 0.
    public init(dim: Int, classes: Int, seed: UInt64 = 0, metadata: HeadMetadata = HeadMetadata(kind: .segmenter)) throws {
        try require(dim > 0, "feature width", "must be positive, got \(dim)")
        try require(classes > 0 && classes <= 255, "class count", "must be in 1...255 (labels are UInt8, 255 is ignored), got \(classes)")
        var random = SeededRandom(seed: seed)
        try self.init(convWeight: random.normals(count: checkedProduct(classes, dim, "head shape"), std: 0.01),
                      convBias: [Float](repeating: 0, count: classes), batchNorm: try BatchNorm(channels: dim),
                      metadata: metadata)
    }

    /// A head with the given parameters (`convWeight` [classes, dim]).
    public init(convWeight: [Float], convBias: [Float], batchNorm: BatchNorm, metadata: HeadMetadata = HeadMetadata(kind: .segmenter)) throws {
        let (k, d) = (convBias.count, batchNorm.channels)
        try require(k > 0 && k <= 255, "class count", "must be in 1...255, got \(k)")
        try require(convWeight.count == k * d, "conv weight", "\(convWeight.count) values, expected \(k) x \(d)")
        try require(batchNorm.weight.count == d && batchNorm.bias.count == d && batchNorm.runningMean.count == d
                    && batchNorm.runningVar.count == d, "batch norm", "every parameter needs \(d) values")
        try metadata.validate(classes: k, path: "metadata")
        classes = k
        dim = d
        (self.convWeight, self.convBias, self.batchNorm, self.metadata) = (convWeight, convBias, batchNorm, metadata)
    }

    /// A Dropout2d mask [batch, dim] for `lossAndGradients(channelMask:)`.
    public func dropoutMask(batch: Int, random: inout SeededRandom) -> [Float] {
        Dropout2d.mask(batch: batch, channels: dim, p: dropout, random: &random)
    }

    /// Throws when a parameter was given the wrong size.
    func validateParameters() throws {
        try require(convWeight.count == classes * dim && convBias.count == classes && batchNorm.channels == dim
                    && batchNorm.weight.count == dim && batchNorm.bias.count == dim && batchNorm.runningMean.count == dim
                    && batchNorm.runningVar.count == dim, "segmenter parameters",
                    "conv weight must be \(classes) x \(dim), conv bias \(classes), batch-norm parameters \(dim) each")
    }

    func checkFeatures(_ features: [Float], batch: Int, height: Int, width: Int) throws {
        try validateParameters()
        try require(batch > 0 && height > 0 && width > 0, "feature map size", "[\(batch), \(height), \(width)] must be positive")
        try require(features.count == batch * height * width * dim, "features",
                    "\(features.count) values are not [\(batch), \(height), \(width), \(dim)] (is this the head's feature recipe?)")
    }

    /// Training-mode loss and gradients with the given dropout mask ([batch, dim] of 0 and
    /// 1/(1-p); all ones for no dropout). Labels are [batch, labelHeight, labelWidth]. Does not
    /// change the head: apply the gradients with an optimizer and call `updateRunningStatistics`
    /// (or use `trainStep`, which does both).
    public func lossAndGradients(features: [Float], batch: Int, height: Int, width: Int,
                                 labels: [UInt8], labelHeight: Int, labelWidth: Int,
                                 channelMask: [Float], featureGradient: Bool = false) throws -> SegmenterGradients {
        try checkFeatures(features, batch: batch, height: height, width: width)
        try require(channelMask.count == batch * dim, "dropout mask", "\(channelMask.count) values, expected [\(batch), \(dim)]")
        try require(labelHeight > 0 && labelWidth > 0 && labels.count == batch * labelHeight * labelWidth, "labels",
                    "\(labels.count) values are not [\(batch), \(labelHeight), \(labelWidth)]")
        let cross = SoftmaxCrossEntropy(ignoreIndex: Int(Self.ignoreIndex))
        let valid = try cross.countValid(labels, classes: classes)
        let upsampler = try BilinearUpsampler(inputHeight: height, inputWidth: width, outputHeight: labelHeight, outputWidth: labelWidth)
        let (n, k, d) = (batch * height * width, classes, dim)

        // Dropout2d, then batch norm with the batch statistics.
        var dropped = [Float](repeating: 0, count: features.count)
        features.withUnsafeBufferPointer { x in
            channelMask.withUnsafeBufferPointer { m in
                dropped.withUnsafeMutableBufferPointer { out in
                    Dropout2d.apply(x.baseAddress!, mask: m.baseAddress!, batch: batch, pixels: height * width, channels: d,
                                    into: out.baseAddress!)
                }
            }
        }
        var (normed, cache) = try batchNorm.forwardTraining(dropped, rows: n)
        dropped = []

        // 1x1 conv: logits [n, K].
        var logits = [Float](repeating: 0, count: n * k)
        normed.withUnsafeBufferPointer { y in
            convWeight.withUnsafeBufferPointer { w in
                convBias.withUnsafeBufferPointer { b in
                    logits.withUnsafeMutableBufferPointer { z in
                        BLAS.linear(y.baseAddress!, rows: n, inputs: d, weight: w.baseAddress!, bias: b.baseAddress!,
                                    outputs: k, into: z.baseAddress!)
                    }
                }
            }
        }

        // Upsampling and cross-entropy, one output row at a time; gradient back to the logits.
        var logitGradient = [Float](repeating: 0, count: n * k)
        var total = 0.0
        if valid > 0 {
            total = Self.upsampledCrossEntropy(logits: logits, labels: labels, batch: batch, classes: k, upsampler: upsampler,
                                               scale: 1 / Float(valid), kernel: softmaxKernel, logitGradient: &logitGradient)
        }
        logits = []

        // Back through the conv and batch norm (and dropout).
        let g = featureGradient
            ? try fullBackward(logitGradient: logitGradient, normed: &normed, cache: cache, channelMask: channelMask, batch: batch)
            : parameterBackward(logitGradient: logitGradient, normalized: cache.normalized)
        logitGradient = []
        cache.normalized = []  // not needed by updateRunningStatistics
        return SegmenterGradients(loss: valid > 0 ? Float(total / Double(valid)) : 0, validPixels: valid,
                                  convWeight: g.convWeight, convBias: g.convBias, bnWeight: g.bnWeight, bnBias: g.bnBias,
                                  features: g.features, batchNorm: cache)
    }

    /// `lossAndGradients` with a dropout mask drawn from `random`.
    public func lossAndGradients(features: [Float], batch: Int, height: Int, width: Int,
                                 labels: [UInt8], labelHeight: Int, labelWidth: Int,
                                 random: inout SeededRandom, featureGradient: Bool = false) throws -> SegmenterGradients {
        try lossAndGradients(features: features, batch: batch, height: height, width: width, labels: labels,
                             labelHeight: labelHeight, labelWidth: labelWidth,
                             channelMask: dropoutMask(batch: batch, random: &random), featureGradient: featureGradient)
    }

    /// Folds the batch statistics of a training step into the running statistics (what a
    /// PyTorch training-mode forward does).
    public mutating func updateRunningStatistics(_ gradients: SegmenterGradients) {
        batchNorm.updateRunningStatistics(gradients.batchNorm)
    }

    /// One training step: dropout mask from `random`, loss and gradients, running statistics,
    /// then `optimizer` on "conv.weight", "conv.bias", "bn.weight" and "bn.bias". Returns the loss.
    @discardableResult
    public mutating func trainStep<O: Optimizer>(features: [Float], batch: Int, height: Int, width: Int,
                                                 labels: [UInt8], labelHeight: Int, labelWidth: Int,
                                                 optimizer: inout O, learningRate: Float,
                                                 random: inout SeededRandom) throws -> Float {
        let b = PatchBatch(features: features, batch: batch, height: height, width: width, targets: labels,
                           targetHeight: labelHeight, targetWidth: labelWidth)
        return try trainStep(b, optimizer: &optimizer, learningRates: [learningRate], random: &random)[0]
    }
}
