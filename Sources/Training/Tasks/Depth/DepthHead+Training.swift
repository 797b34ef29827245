import CSegKernels
import Heads
import Support

extension DepthHead: TrainableHead {
    /// Training mode on `batch` (targets: depth in metres at the label size, 0 = no depth): batch
    /// statistics, depth per cell, `SigLoss` (counting a warm-up step), the gradients of
    /// `batchnorm_layer.weight`, `.bias`, `conv_depth.weight`, `.bias` (PyTorch's parameter
    /// order), then the running statistics.
    public mutating func forwardBackward(_ batch: Batch, random: inout SeededRandom) throws -> HeadGradients {
        let (b, h, w) = (batch.batch, batch.height, batch.width)
        try checkFeatures(batch.features, batch: b, height: h, width: w)
        let rows = b * h * w
        var cache = try batchNorm.forwardTraining(batch.features, rows: rows, output: false).cache
        let (foldedWeight, foldedBias) = NormalizedConv.folded(weight: convWeight, bias: convBias, scale: batchNorm.weight, shift: batchNorm.bias)
        var logits = binLogits(cache.normalized, rows: rows, weight: foldedWeight)
        let depth = depths(logits, rows: rows, bias: foldedBias)
        let scored = try loss.lossAndGradient(depth: depth, batch: b, height: h, width: w, targets: batch.targets,
                                              targetHeight: batch.targetHeight, targetWidth: batch.targetWidth, kernel: kernel)
        let (k, norm, kernel) = (recipe.bins, recipe.cNorm, kernel.c)
        logits.withUnsafeMutableBufferPointer { z in
            depth.withUnsafeBufferPointer { d in
                scored.depthGradient.withUnsafeBufferPointer { dd in
                    centres.withUnsafeBufferPointer { c in
                        foldedBias.withUnsafeBufferPointer { b in
                            let p = SendablePointers(z: z.baseAddress!, depth: UnsafeMutablePointer(mutating: d.baseAddress!), centres: c.baseAddress!,
                                                     bias: b.baseAddress!)
                            let gradient = RowGradient(base: dd.baseAddress!)
                            Self.chunks(rows) { range in
                                dp_depth_bins_backward(kernel, p.z + range.lowerBound * k, p.bias, range.count, k, p.centres, norm,
                                                       p.depth + range.lowerBound, gradient.base + range.lowerBound)
                            }
                        }
                    }
                }
            }
        }
        let g = NormalizedConv.parameterGradients(normalized: cache.normalized, outputGradient: logits, weight: convWeight, batchNorm: batchNorm)
        cache.normalized = []
        batchNorm.updateRunningStatistics(cache)
        return HeadGradients(losses: [scored.loss], parameters: [("batchnorm_layer.weight", g.gamma), ("batchnorm_layer.bias", g.beta),
                                                                 ("conv_depth.weight", g.weight), ("conv_depth.bias", g.bias)])
    }

    public mutating func updateParameter(_ name: String, _ update: (inout [Float]) throws -> Void) throws {
        switch name {
        case "conv_depth.weight": try update(&convWeight)
        case "conv_depth.bias": try update(&convBias)
        case "batchnorm_layer.weight": try update(&batchNorm.weight)
        case "batchnorm_layer.bias": try update(&batchNorm.bias)
        default: throw HeadError.invalidArgument(what: "parameter '\(name)'", detail: "a depth head has no such parameter")
        }
    }
}

extension DepthHead: Resumable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.floats[prefix + ".conv_depth.weight"] = convWeight
        state.floats[prefix + ".conv_depth.bias"] = convBias
        batchNorm.save(into: &state, as: prefix + ".batchnorm_layer")
        state.integers[prefix + ".sigloss.warm_up_counter"] = [Int64(loss.warmUpCounter)]
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        convWeight = try state.floats(prefix + ".conv_depth.weight", count: convWeight.count)
        convBias = try state.floats(prefix + ".conv_depth.bias", count: convBias.count)
        try batchNorm.restore(from: state, as: prefix + ".batchnorm_layer")
        let counter = try state.integers(prefix + ".sigloss.warm_up_counter", count: 1)[0]
        guard counter >= 0 else { throw HeadError.badTrainingState(path: "", reason: "a negative SigLoss warm-up count") }
        loss.warmUpCounter = Int(counter)
    }
}

/// d loss / d depth per row, read by the parallel backward workers.
private struct RowGradient: @unchecked Sendable { let base: UnsafePointer<Float> }
