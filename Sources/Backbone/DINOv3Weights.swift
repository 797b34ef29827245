/// The parameters of a DINOv3 ViT as a tree whose leaves are named as in the Hugging Face
/// checkpoint (no prefix; linear weights [out, in]). The names and shapes are spelled once, in
/// `init(config:source:)`: loading a checkpoint, listing what a checkpoint must hold and writing
/// a random one all walk this one description.
struct DINOv3Weights<Value> {
    struct Linear {
        let weight: Value
        let bias: Value?
    }

    struct LayerNorm {
        let weight: Value
        let bias: Value
    }

    /// The 16 x 16 stride-16 convolution that embeds patches.
    struct PatchEmbedding {
        let weight: Value
        let bias: Value
    }

    struct Block {
        let norm1: LayerNorm
        let q: Linear, k: Linear, v: Linear, o: Linear
        let layerScale1: Value
        let norm2: LayerNorm
        let up: Linear
        /// Gated MLPs only.
        let gate: Linear?
        let down: Linear
        let layerScale2: Value
    }

    let clsToken: Value
    /// Unused at inference; may be absent.
    let maskToken: Value?
    /// Absent (or empty) without registers.
    let registerTokens: Value?
    let patchEmbedding: PatchEmbedding
    let blocks: [Block]
    let norm: LayerNorm

    /// Builds the tree, asking `source` for every parameter by name and shape.
    init<S: WeightSource>(config c: DINOv3Config, source: S) throws where S.Value == Value {
        let d = c.hiddenSize, f = c.intermediateSize, p = c.patchSize
        func required(_ name: String, _ shape: [Int]) throws -> Value {
            guard let value = try source.take(name, shape: shape, required: true) else {
                throw BackboneError.missingTensor(key: name, expectedShape: shape)
            }
            return value
        }
        func linear(_ name: String, out: Int, in inputs: Int, bias: Bool) throws -> Linear {
            Linear(weight: try required(name + ".weight", [out, inputs]),
                   bias: bias ? try required(name + ".bias", [out]) : nil)
        }
        func layerNorm(_ name: String) throws -> LayerNorm {
            LayerNorm(weight: try required(name + ".weight", [d]), bias: try required(name + ".bias", [d]))
        }
        clsToken = try required("embeddings.cls_token", [1, 1, d])
        maskToken = try source.take("embeddings.mask_token", shape: [1, 1, d], required: false)
        registerTokens = try source.take("embeddings.register_tokens", shape: [1, c.numRegisterTokens, d],
                                         required: c.numRegisterTokens > 0)
        patchEmbedding = PatchEmbedding(weight: try required("embeddings.patch_embeddings.weight", [d, c.numChannels, p, p]),
                                        bias: try required("embeddings.patch_embeddings.bias", [d]))
        blocks = try (0..<c.numHiddenLayers).map { i in
            let l = "layer.\(i)."
            return Block(norm1: try layerNorm(l + "norm1"),
                         q: try linear(l + "attention.q_proj", out: d, in: d, bias: c.queryBias),
                         k: try linear(l + "attention.k_proj", out: d, in: d, bias: c.keyBias),
                         v: try linear(l + "attention.v_proj", out: d, in: d, bias: c.valueBias),
                         o: try linear(l + "attention.o_proj", out: d, in: d, bias: c.projBias),
                         layerScale1: try required(l + "layer_scale1.lambda1", [d]),
                         norm2: try layerNorm(l + "norm2"),
                         up: try linear(l + "mlp.up_proj", out: f, in: d, bias: c.mlpBias),
                         gate: c.useGatedMLP ? try linear(l + "mlp.gate_proj", out: f, in: d, bias: c.mlpBias) : nil,
                         down: try linear(l + "mlp.down_proj", out: d, in: f, bias: c.mlpBias),
                         layerScale2: try required(l + "layer_scale2.lambda1", [d]))
        }
        norm = try layerNorm("norm")
    }
}

/// Where the weights tree gets its leaves: a checkpoint (tensors), or a recorder of the names
/// and shapes a checkpoint must hold.
protocol WeightSource {
    associatedtype Value
    /// The parameter `name` of `shape`, or nil when absent (only allowed if not `required`).
    func take(_ name: String, shape: [Int], required: Bool) throws -> Value?
}

/// Records every parameter the architecture names, with its shape and whether it is required.
final class WeightSpecification: WeightSource {
    private(set) var shapes: [String: [Int]] = [:]
    private(set) var optional: Set<String> = []

    func take(_ name: String, shape: [Int], required: Bool) throws -> [Int]? {
        shapes[name] = shape
        if !required { optional.insert(name) }
        return shape
    }

    /// The names and shapes of `config`'s checkpoint.
    static func of(_ config: DINOv3Config) -> WeightSpecification {
        let spec = WeightSpecification()
        _ = try? DINOv3Weights(config: config, source: spec)
        return spec
    }

    /// The names and shapes of a ConvNeXt checkpoint.
    static func of(_ config: DINOv3ConvNextConfig) -> WeightSpecification {
        let spec = WeightSpecification()
        _ = try? ConvNextWeights(config: config, source: spec)
        return spec
    }
}
