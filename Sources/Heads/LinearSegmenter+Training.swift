import Support

extension LinearSegmenter: Resumable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.floats[prefix + ".conv.weight"] = convWeight
        state.floats[prefix + ".conv.bias"] = convBias
        batchNorm.save(into: &state, as: prefix + ".bn")
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        convWeight = try state.floats(prefix + ".conv.weight", count: convWeight.count)
        convBias = try state.floats(prefix + ".conv.bias", count: convBias.count)
        try batchNorm.restore(from: state, as: prefix + ".bn")
    }
}

/// A training batch of patch features [batch, height, width, dim] with per-pixel targets
/// [batch, targetHeight, targetWidth] (class labels for segmentation).
public struct PatchBatch<Target: Sendable>: Sendable {
    public var features: [Float]
    public var batch: Int, height: Int, width: Int
    public var targets: [Target]
    public var targetHeight: Int, targetWidth: Int

    public init(features: [Float], batch: Int, height: Int, width: Int, targets: [Target], targetHeight: Int, targetWidth: Int) {
        (self.features, self.batch, self.height, self.width) = (features, batch, height, width)
        (self.targets, self.targetHeight, self.targetWidth) = (targets, targetHeight, targetWidth)
    }
}

extension LinearSegmenter: TrainableHead {
    /// Dropout mask from `random`, loss and gradients, then the batch-norm running statistics.
    public mutating func forwardBackward(_ b: PatchBatch<UInt8>, random: inout SeededRandom) throws -> HeadGradients {
        let g = try lossAndGradients(features: b.features, batch: b.batch, height: b.height, width: b.width, labels: b.targets,
                                     labelHeight: b.targetHeight, labelWidth: b.targetWidth, random: &random)
        updateRunningStatistics(g)
        return HeadGradients(losses: [g.loss], parameters: [("conv.weight", g.convWeight), ("conv.bias", g.convBias),
                                                             ("bn.weight", g.bnWeight), ("bn.bias", g.bnBias)])
    }

    public mutating func updateParameter(_ name: String, _ update: (inout [Float]) throws -> Void) throws {
        switch name {
        case "conv.weight": try update(&convWeight)
        case "conv.bias": try update(&convBias)
        case "bn.weight": try update(&batchNorm.weight)
        case "bn.bias": try update(&batchNorm.bias)
        default: throw unknownParameter(name, of: "a linear segmenter")
        }
    }
}
