import Foundation

/// The outputs of one forward pass over a batch, as float32 on the CPU.
public struct BackboneOutput: Sendable {
    /// Images in the batch.
    public let batch: Int
    /// Patch grid: rows and columns.
    public let gridHeight: Int, gridWidth: Int
    /// Register tokens per image.
    public let registers: Int
    /// Feature width D.
    public let dim: Int
    /// `last_hidden_state`: [batch, 1 + registers + gridHeight * gridWidth, dim], after the final norm.
    public let lastHiddenState: [Float]
    /// Normed outputs of the requested blocks (all after the final norm, as Meta's
    /// `get_intermediate_layers(norm=True)`), in block order. Each has the shape of `lastHiddenState`.
    public let layers: [[Float]]
    /// A ConvNeXt's raw stage maps that were asked for (see `StageMap`), in stage order; empty otherwise.
    public internal(set) var stages: [StageMap] = []

    /// Tokens per image.
    public var tokens: Int { 1 + registers + gridHeight * gridWidth }

    /// `pooler_output` of image `b`: the normed CLS token.
    public func cls(_ b: Int, layer: [Float]? = nil) -> ArraySlice<Float> {
        let source = layer ?? lastHiddenState
        let start = b * tokens * dim
        return source[start..<(start + dim)]
    }

    /// Register tokens of image `b`: [registers, dim].
    public func registerTokens(_ b: Int, layer: [Float]? = nil) -> ArraySlice<Float> {
        let source = layer ?? lastHiddenState
        let start = (b * tokens + 1) * dim
        return source[start..<(start + registers * dim)]
    }

    /// Patch tokens of image `b`: [gridHeight, gridWidth, dim], row-major.
    public func patchTokens(_ b: Int, layer: [Float]? = nil) -> ArraySlice<Float> {
        let source = layer ?? lastHiddenState
        let start = (b * tokens + 1 + registers) * dim
        return source[start..<(start + gridHeight * gridWidth * dim)]
    }

    /// Patch tokens of image `b` from every layer in `layers`, concatenated per patch in layer
    /// order (Meta's multi-layer segmentation input): [gridHeight, gridWidth, layers.count * dim].
    public func concatenatedPatchTokens(_ b: Int) -> [Float] {
        guard layers.count > 1 else { return Array(patchTokens(b, layer: layers.first)) }
        let n = gridHeight * gridWidth, k = layers.count
        var out = [Float](repeating: 0, count: n * k * dim)
        for (l, layer) in layers.enumerated() {
            let tokens = patchTokens(b, layer: layer)
            var source = tokens.startIndex
            for p in 0..<n {
                let target = (p * k + l) * dim
                for d in 0..<dim { out[target + d] = tokens[source + d] }
                source += dim
            }
        }
        return out
    }

    /// Mean of the patch tokens of image `b`: [dim].
    public func meanPatch(_ b: Int, layer: [Float]? = nil) -> [Float] {
        let patches = patchTokens(b, layer: layer)
        let n = gridHeight * gridWidth
        var sum = [Double](repeating: 0, count: dim)
        var i = patches.startIndex
        for _ in 0..<n {
            for d in 0..<dim { sum[d] += Double(patches[i + d]) }
            i += dim
        }
        return sum.map { Float($0 / Double(n)) }
    }
}
