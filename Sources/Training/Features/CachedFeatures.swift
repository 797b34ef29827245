import Backbone
import Foundation
import SafeTensors

/// Per-image CLS and mean-patch tokens of the last `blocks` blocks (after the final norm), the
/// raw material of every classification feature recipe.
public struct CachedFeatures: Sendable {
    /// Images that were read (skipped ones are absent).
    public var count: Int
    /// Backbone width D.
    public var dim: Int
    /// Blocks stored (the last `blocks` of the backbone, oldest first).
    public var blocks: Int
    /// [count, blocks, dim]
    public var cls: [Float]
    /// [count, blocks, dim]
    public var meanPatch: [Float]
    /// For each stored row, its position in the input list.
    public var sourceIndex: [Int]
    /// Inputs that could not be read, with reasons.
    public var skipped: [SkippedInput]
    /// Fingerprint of the backbone weights that produced them.
    public var backboneFingerprint: String

    public init(count: Int, dim: Int, blocks: Int, cls: [Float], meanPatch: [Float], sourceIndex: [Int],
                skipped: [SkippedInput], backboneFingerprint: String) {
        self.count = count
        self.dim = dim
        self.blocks = blocks
        self.cls = cls
        self.meanPatch = meanPatch
        self.sourceIndex = sourceIndex
        self.skipped = skipped
        self.backboneFingerprint = backboneFingerprint
    }

    /// No rows yet: fill with `append`.
    public init(dim: Int, blocks: Int, backboneFingerprint: String) {
        self.init(count: 0, dim: dim, blocks: blocks, cls: [], meanPatch: [], sourceIndex: [], skipped: [],
                  backboneFingerprint: backboneFingerprint)
    }

    /// Adds one row per image of `batch`: the CLS and mean-patch tokens of each of its layers.
    public mutating func append(_ batch: ExtractedBatch) {
        let out = batch.output
        for (b, index) in batch.indices.enumerated() {
            for layer in out.layers {
                cls += out.cls(b, layer: layer)
                meanPatch += out.meanPatch(b, layer: layer)
            }
            sourceIndex.append(index)
        }
        count += out.batch
    }

    /// Feature vectors [count, width] for `recipe` (see `FeatureTokens`).
    public func vectors(_ tokens: FeatureTokens, blocks n: Int) throws -> (values: [Float], width: Int) {
        guard n >= 1, n <= blocks else {
            throw TrainingError.badOption("features of the last \(n) blocks were asked for, but only \(blocks) are available (the backbone has fewer blocks, or the features file was extracted with --layers \(blocks))")
        }
        let width = n * dim + (tokens == .clsAvgpool ? dim : 0)
        var out = [Float](repeating: 0, count: count * width)
        for i in 0..<count {
            var o = i * width
            for b in (blocks - n)..<blocks {
                let s = (i * blocks + b) * dim
                for d in 0..<dim { out[o + d] = cls[s + d] }
                o += dim
            }
            if tokens == .clsAvgpool {
                let s = (i * blocks + blocks - 1) * dim
                for d in 0..<dim { out[o + d] = meanPatch[s + d] }
            }
        }
        return (out, width)
    }

    /// L2-normalised last-block CLS tokens [count, dim] (the k-NN input).
    public func normalisedCLS() -> [Float] {
        var out = [Float](repeating: 0, count: count * dim)
        for i in 0..<count {
            let s = (i * blocks + blocks - 1) * dim
            var norm: Float = 0
            for d in 0..<dim { norm += cls[s + d] * cls[s + d] }
            let scale = 1 / max(norm.squareRoot(), 1e-12)
            for d in 0..<dim { out[i * dim + d] = cls[s + d] * scale }
        }
        return out
    }
}

/// Errors of the training side: options, data, caches, features files.
public enum TrainingError: Error, CustomStringConvertible {
    case badOption(String)
    case badFeaturesFile(path: String, reason: String)
    case incompatible(String)
    /// Training stopped because the loss became NaN or infinite; nothing was saved.
    case diverged(String)

    public var description: String {
        switch self {
        case let .badOption(message): return message
        case let .badFeaturesFile(path, reason): return "cannot use features file \(path): \(reason)"
        case let .incompatible(message): return message
        case let .diverged(message): return "training diverged: \(message); nothing was saved"
        }
    }
}
