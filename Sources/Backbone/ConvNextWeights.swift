import CTorch

/// The parameters of a DINOv3 ConvNeXt as a tree whose leaves are named as in the Hugging Face
/// checkpoint (`transformers`' `DINOv3ConvNextModel`), names and shapes spelled once here.
struct ConvNextWeights<Value> {
    typealias Pair = (weight: Value, bias: Value)

    /// One block: depthwise 7x7 conv, channels-last LayerNorm, 4x MLP, layer scale.
    struct Block {
        let depthwise: Pair
        let norm: Pair
        let up: Pair
        let down: Pair
        let gamma: Value
    }

    /// A stage: its downsampling (stage 0: the 4x4 stem conv then a norm; later: a norm then a
    /// 2x2 conv), then its blocks.
    struct Stage {
        let conv: Pair
        let norm: Pair
        let blocks: [Block]
    }

    let stages: [Stage]
    /// The final LayerNorm over [pooled, patches].
    let norm: Pair

    /// Builds the tree, asking `source` for every parameter by name and shape.
    init<S: WeightSource>(config c: DINOv3ConvNextConfig, source: S) throws where S.Value == Value {
        func required(_ name: String, _ shape: [Int]) throws -> Value {
            guard let value = try source.take(name, shape: shape, required: true) else {
                throw BackboneError.missingTensor(key: name, expectedShape: shape)
            }
            return value
        }
        func pair(_ name: String, _ shape: [Int], bias: Int) throws -> Pair {
            (try required(name + ".weight", shape), try required(name + ".bias", [bias]))
        }
        stages = try c.hiddenSizes.indices.map { i in
            let s = "stages.\(i).", width = c.hiddenSizes[i]
            let previous = i == 0 ? c.numChannels : c.hiddenSizes[i - 1], kernel = i == 0 ? 4 : 2
            let conv = try pair(s + "downsample_layers.\(i == 0 ? 0 : 1)", [width, previous, kernel, kernel], bias: width)
            let norm = try pair(s + "downsample_layers.\(i == 0 ? 1 : 0)", [i == 0 ? width : previous], bias: i == 0 ? width : previous)
            let blocks = try (0..<c.depths[i]).map { j in
                let b = s + "layers.\(j)."
                return Block(depthwise: try pair(b + "depthwise_conv", [width, 1, 7, 7], bias: width),
                             norm: try pair(b + "layer_norm", [width], bias: width),
                             up: try pair(b + "pointwise_conv1", [4 * width, width], bias: 4 * width),
                             down: try pair(b + "pointwise_conv2", [width, 4 * width], bias: width),
                             gamma: try required(b + "gamma", [width]))
            }
            return Stage(conv: conv, norm: norm, blocks: blocks)
        }
        norm = try pair("layer_norm", [c.hiddenSizes[3]], bias: c.hiddenSizes[3])
    }
}

/// A DINOv3 ConvNeXt's forward pass on libtorch, step for step as `transformers`'
/// `DINOv3ConvNextModel`: the output is [batch, 1 + h * w, width], the LayerNorm of the average
/// pooled feature followed by the last stage's map (row-major), like a ViT's [CLS, patches].
struct ConvNextNetwork {
    typealias Pair = ConvNextWeights<Tensor>.Pair

    /// A block as the forward pass applies it: its pointwise MLP prepared once for the packed
    /// GEMM, in place of the checkpoint's matrices (which are not kept, so a converted checkpoint
    /// is not held twice).
    private struct Block {
        let depthwise: Pair
        let norm: Pair
        let up: PreparedLinear
        let down: PreparedLinear
        let gamma: Tensor
    }

    private struct Stage {
        let conv: Pair
        let norm: Pair
        let blocks: [Block]
    }

    let config: DINOv3ConvNextConfig
    private let stages: [Stage]
    private let norm: Pair

    init(config: DINOv3ConvNextConfig, weights: ConvNextWeights<Tensor>) throws {
        self.config = config
        stages = try weights.stages.map { stage in
            Stage(conv: stage.conv, norm: stage.norm, blocks: try stage.blocks.map {
                Block(depthwise: $0.depthwise, norm: $0.norm, up: try PreparedLinear(weight: $0.up.weight, bias: $0.up.bias),
                      down: try PreparedLinear(weight: $0.down.weight, bias: $0.down.bias), gamma: $0.gamma)
            })
        }
        norm = weights.norm
    }

    /// The output, and the raw NCHW outputs of the stages `stages` (ascending; `transformers`'
    /// `hidden_states[i + 1]`: a stage's last block, before the final norm).
    func forward(_ pixels: Tensor, stages wanted: [Int] = []) throws -> (output: Tensor, stages: [Tensor]) {
        let eps = config.layerNormEps
        /// LayerNorm over channels of an NCHW map.
        func channelsFirstNorm(_ x: Tensor, _ p: Pair) throws -> Tensor {
            try x.permute([0, 2, 3, 1]).layerNorm(p.weight, p.bias, eps: eps).permute([0, 3, 1, 2])
        }
        var x = pixels
        var kept: [Tensor] = []
        for (i, stage) in stages.enumerated() {
            if i == 0 {
                x = try channelsFirstNorm(x.conv2d(stage.conv.weight, stage.conv.bias, stride: 4), stage.norm)
            } else {
                x = try channelsFirstNorm(x, stage.norm).conv2d(stage.conv.weight, stage.conv.bias, stride: 2)
            }
            let width = config.hiddenSizes[i]
            for block in stage.blocks {
                let normed = try x.conv2d(block.depthwise.weight, block.depthwise.bias, stride: 1, padding: 3, groups: width)
                    .permute([0, 2, 3, 1]).layerNorm(block.norm.weight, block.norm.bias, eps: eps)
                let y = try block.down(block.up(normed).activation(CT_GELU)) * block.gamma
                x = try x + y.permute([0, 3, 1, 2])
            }
            if wanted.contains(i) { kept.append(x) }
        }
        let shape = x.shape
        let (b, c, n) = (shape[0], shape[1], shape[2] * shape[3])
        let pooled = try x.mean([2, 3]).reshape([b, 1, c])
        let patches = try x.reshape([b, c, n]).permute([0, 2, 1])
        let output = try Tensor.cat([pooled, patches], dim: 1).layerNorm(norm.weight, norm.bias, eps: eps)
        return (output, kept)
    }
}
