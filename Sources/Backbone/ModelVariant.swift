/// Names of released DINOv3 ViT variants and the compute arithmetic of a forward pass.
public enum ModelVariant {
    /// "ViT-S/16" etc. when the config matches a released shape, else "ViT (D=…, L=…)".
    public static func name(for c: DINOv3Config) -> String {
        let known: [(String, Int, Int, Int, Bool)] = [
            ("ViT-S/16", 384, 12, 6, false), ("ViT-S+/16", 384, 12, 6, true), ("ViT-B/16", 768, 12, 12, false),
            ("ViT-L/16", 1024, 24, 16, false), ("ViT-H+/16", 1280, 32, 20, true), ("ViT-7B/16", 4096, 40, 32, true),
        ]
        for (name, d, l, h, gated) in known
        where c.hiddenSize == d && c.numHiddenLayers == l && c.numAttentionHeads == h && c.useGatedMLP == gated && c.patchSize == 16 {
            return name
        }
        return "ViT/\(c.patchSize) (D=\(c.hiddenSize), L=\(c.numHiddenLayers), heads=\(c.numAttentionHeads))"
    }
}

/// Multiply-adds of one image's forward pass, by part. FLOPs are twice the multiply-adds.
public struct ComputeCost: Sendable {
    public let tokens: Int
    public let patchEmbedding: Int
    public let projections: Int
    public let attention: Int
    public let mlp: Int

    /// Counts for an input of `height` x `width` pixels.
    public init(config c: DINOv3Config, height: Int, width: Int) {
        let patches = (height / c.patchSize) * (width / c.patchSize)
        let t = 1 + c.numRegisterTokens + patches
        let d = c.hiddenSize, f = c.intermediateSize, layers = c.numHiddenLayers
        tokens = t
        patchEmbedding = patches * d * c.numChannels * c.patchSize * c.patchSize
        projections = layers * 4 * t * d * d
        attention = layers * 2 * t * t * d
        mlp = layers * (c.useGatedMLP ? 3 : 2) * t * d * f
    }

    public var multiplyAdds: Int { patchEmbedding + projections + attention + mlp }
    public var flops: Int { 2 * multiplyAdds }
}
