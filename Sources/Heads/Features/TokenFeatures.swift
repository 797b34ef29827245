/// Per-image CLS and mean-patch tokens of the last `blocks` blocks of the backbone (after its
/// final norm): the raw material of every classification feature recipe. Row i holds image i's
/// tokens, oldest block first.
public struct TokenFeatures: Sendable, Equatable {
    public private(set) var count: Int
    /// Backbone width D.
    public let dim: Int
    /// Blocks stored per image.
    public let blocks: Int
    /// [count, blocks, dim]
    public private(set) var cls: [Float]
    /// [count, blocks, dim]
    public private(set) var meanPatch: [Float]

    /// No rows yet: fill with `append`.
    public init(dim: Int, blocks: Int) {
        count = 0
        self.dim = dim
        self.blocks = blocks
        cls = []
        meanPatch = []
    }

    /// Rows given whole; throws unless both arrays hold `count x blocks x dim` values.
    public init(count: Int, dim: Int, blocks: Int, cls: [Float], meanPatch: [Float]) throws {
        let size = try checkedProduct(count, try checkedProduct(blocks, dim, "feature shape"), "feature shape")
        try require(dim > 0 && blocks > 0 && count >= 0, "feature shape", "[\(count), \(blocks), \(dim)] must be positive")
        try require(cls.count == size && meanPatch.count == size, "features",
                    "cls has \(cls.count) and mean_patch \(meanPatch.count) values, [\(count), \(blocks), \(dim)] needs \(size)")
        self.count = count
        self.dim = dim
        self.blocks = blocks
        self.cls = cls
        self.meanPatch = meanPatch
    }

    /// Adds one image: its CLS and mean-patch tokens of each stored block ([blocks, dim] each).
    public mutating func append<C: Collection, M: Collection>(cls c: C, meanPatch m: M) throws where C.Element == Float, M.Element == Float {
        try require(c.count == blocks * dim && m.count == blocks * dim, "image features", "expected \(blocks) x \(dim) values")
        cls.append(contentsOf: c)
        meanPatch.append(contentsOf: m)
        count += 1
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> TokenFeatures {
        var out = TokenFeatures(dim: dim, blocks: blocks)
        let size = blocks * dim
        out.cls.reserveCapacity(indices.count * size)
        out.meanPatch.reserveCapacity(indices.count * size)
        for i in indices {
            out.cls += cls[(i * size)..<((i + 1) * size)]
            out.meanPatch += meanPatch[(i * size)..<((i + 1) * size)]
        }
        out.count = indices.count
        return out
    }

    /// Feature vectors [count, width] for `tokens` over the last `n` blocks.
    public func vectors(_ tokens: FeatureTokens, blocks n: Int) throws -> (values: [Float], width: Int) {
        try require(tokens != .patch, "feature tokens", "patch tokens are not stored with classification features")
        try require(n >= 1 && n <= blocks, "feature blocks",
                    "features of the last \(n) blocks were asked for, but \(blocks) are stored (the backbone has fewer blocks, or the features were extracted with fewer layers)")
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
        var last = [Float](repeating: 0, count: count * dim)
        for i in 0..<count {
            let s = (i * blocks + blocks - 1) * dim
            for d in 0..<dim { last[i * dim + d] = cls[s + d] }
        }
        return RowNormaliser.l2(last, dim: dim)
    }
}

/// Scaling rows to unit length (the one normaliser of k-NN, k-means and cosine similarity).
public enum RowNormaliser {
    /// Each row of `values` [n, dim] divided by its L2 norm, summed in double precision (rows
    /// of norm below 1e-12 are divided by 1e-12, so zero rows stay zero).
    public static func l2(_ values: [Float], dim: Int) -> [Float] {
        guard dim > 0 else { return values }
        var out = values
        out.withUnsafeMutableBufferPointer { p in
            for start in stride(from: 0, to: p.count - dim + 1, by: dim) {
                var norm: Double = 0
                for d in 0..<dim { norm += Double(p[start + d]) * Double(p[start + d]) }
                let scale = Float(1 / max(norm.squareRoot(), 1e-12))
                for d in 0..<dim { p[start + d] *= scale }
            }
        }
        return out
    }
}
