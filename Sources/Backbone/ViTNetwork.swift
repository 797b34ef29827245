import CTorch

/// A DINOv3 ViT's forward pass on libtorch, step for step as `transformers`' `DINOv3ViTModel`,
/// over its weights as the pass uses them: each block's q, k and v projections fused into one
/// [3 * D, D] matrix (one GEMM instead of three; the self-attention op reads the result in
/// place), and every linear layer prepared for the GEMM that applies it (`PreparedLinear`:
/// packed panels on float32 CPU runs). Fused and packed weights are new memory, as many floats as
/// the checkpoint's (plus padding to a whole panel); the checkpoint's own tensors are not kept:
/// converted (BF16, F16) ones are freed, and F32 ones are clean pages of the mapped checkpoint,
/// which the system reclaims when memory is short.
struct ViTNetwork {
    typealias LayerNorm = DINOv3Weights<Tensor>.LayerNorm

    struct Block {
        let norm1: LayerNorm
        /// q, k, v stacked by rows; a missing bias is zeros (the sum is then the product exactly).
        let qkv: PreparedLinear
        let o: PreparedLinear
        let layerScale1: Tensor
        let norm2: LayerNorm
        let up: PreparedLinear
        let gate: PreparedLinear?
        let down: PreparedLinear
        let layerScale2: Tensor
    }

    let config: DINOv3Config
    let activation: ct_activation_kind
    let clsToken: Tensor
    let registerTokens: Tensor?
    /// The patch embedding as a linear map of a patch's pixels (channel, row, column order):
    /// weight [D, 3 * p * p]; a GEMM instead of a stride-p convolution.
    let patchEmbedding: PreparedLinear
    let blocks: [Block]
    let norm: LayerNorm

    /// `place` moves a CPU float32 tensor to the weights' device and precision (for zero biases).
    init(config: DINOv3Config, weights w: DINOv3Weights<Tensor>, activation: ct_activation_kind, place: (Tensor) throws -> Tensor) throws {
        self.config = config
        self.activation = activation
        clsToken = w.clsToken
        registerTokens = w.registerTokens
        let p = config.patchSize
        patchEmbedding = try PreparedLinear(weight: w.patchEmbedding.weight.reshape([config.hiddenSize, config.numChannels * p * p]),
                                            bias: w.patchEmbedding.bias)
        norm = w.norm
        let d = config.hiddenSize
        let zeros = try place(Tensor([Float](repeating: 0, count: d), shape: [d]))
        blocks = try w.blocks.map { b in
            let parts = [b.q, b.k, b.v]
            let bias = parts.allSatisfy({ $0.bias == nil }) ? nil : try Tensor.cat(parts.map { $0.bias ?? zeros }, dim: 0)
            return Block(norm1: b.norm1, qkv: try PreparedLinear(weight: Tensor.cat(parts.map(\.weight), dim: 0), bias: bias),
                         o: try PreparedLinear(b.o), layerScale1: b.layerScale1, norm2: b.norm2, up: try PreparedLinear(b.up),
                         gate: try b.gate.map(PreparedLinear.init), down: try PreparedLinear(b.down), layerScale2: b.layerScale2)
        }
    }

    /// The normed outputs of blocks `layers` and of the last block, on pixels [batch, 3, H, W];
    /// `rope` holds the tables for the input's patch grid.
    func forward(_ pixels: Tensor, layers: [Int], rope: (cos: Tensor, sin: Tensor)) throws -> (layers: [Tensor], last: Tensor) {
        let c = config
        let shape = pixels.shape
        let p = c.patchSize
        let (b, channels, gh, gw) = (shape[0], shape[1], shape[2] / p, shape[3] / p)
        let d = c.hiddenSize

        // Patch embedding (each patch's pixels times the kernel), patches row-major, then
        // [CLS, registers, patches].
        // One statement, so the patches' copy of the pixels is gone before the blocks run.
        let patches = try patchEmbedding(pixels.reshape([b, channels, gh, p, gw, p]).permute([0, 2, 4, 1, 3, 5])
            .reshape([b, gh * gw, channels * p * p]))
        var prefix = [try clsToken.expand([b, 1, d])]
        if c.numRegisterTokens > 0, let registers = registerTokens { prefix.append(try registers.expand([b, c.numRegisterTokens, d])) }
        var x = try Tensor.cat(prefix + [patches], dim: 1)

        var outputs: [Tensor] = []
        let wanted = Set(layers)
        for (i, block) in blocks.enumerated() {
            x = try self.block(block, x, rope: rope)
            if wanted.contains(i) { outputs.append(try x.layerNorm(norm.weight, norm.bias, eps: c.layerNormEps)) }
        }
        if wanted.contains(c.numHiddenLayers - 1), let final = outputs.last { return (outputs, final) }
        return (outputs, try x.layerNorm(norm.weight, norm.bias, eps: c.layerNormEps))
    }

    /// One pre-norm transformer block with layer scale: the output projection and the MLP's down
    /// projection each add their layer-scaled result to the residual stream as they compute it.
    /// Intermediates made here are updated in place (the residual stream `x` itself never is).
    private func block(_ w: Block, _ x: Tensor, rope: (cos: Tensor, sin: Tensor)) throws -> Tensor {
        let eps = config.layerNormEps
        let qkv = try w.qkv(x.layerNorm(w.norm1.weight, w.norm1.bias, eps: eps))
        let attention = try Tensor.selfAttention(qkv: qkv, cos: rope.cos, sin: rope.sin, heads: config.numAttentionHeads,
                                                 scale: 1 / Double(config.headDim).squareRoot())
        let h = try w.o(attention, adding: x, scaledBy: w.layerScale1)
        return try w.down(mlpHidden(w, h.layerNorm(w.norm2.weight, w.norm2.bias, eps: eps)), adding: h, scaledBy: w.layerScale2)
    }

    /// The MLP's activations before its down projection. GELU (erf) runs in the up projection's
    /// epilogue (see `PreparedLinear.applyingGELU`).
    private func mlpHidden(_ w: Block, _ x: Tensor) throws -> Tensor {
        if w.gate == nil && activation == CT_GELU { return try w.up.applyingGELU(x) }
        let up = try w.up(x)
        if let gate = w.gate {
            let hidden = try gate(x)
            try hidden.activateInPlace(activation)
            try hidden.multiplyInPlace(up)
            return hidden
        }
        try up.activateInPlace(activation)
        return up
    }
}
