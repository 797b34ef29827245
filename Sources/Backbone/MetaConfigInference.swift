import Foundation
import TorchFile

/// The architecture of a Meta-layout state dict, read from its tensor shapes: width from
/// `cls_token`, patch size from `patch_embed.proj.weight`, depth from the `blocks.N` names,
/// registers from `storage_tokens`, the MLP kind and width from `mlp.w1` / `mlp.fc1`, biases from
/// their presence, and the head count from the RoPE periods (head dim / 4 of them), else from
/// `--arch` or the file name. Activations and norms are those of Meta's code (GELU MLP or SiLU
/// SwiGLU, LayerNorm eps 1e-5, RoPE base 100).
struct MetaConfigInference {
    let config: DINOv3Config
    let periods: [Float]?
    /// Each block's `attn.qkv.bias` multiplied by its `bias_mask`, by Meta name.
    let maskedBiases: [String: [Float]]

    init(file: TorchCheckpointFile, arch: MetaArchitecture?, fileName: String) throws {
        let path = file.path
        func fail(_ reason: String) -> BackboneError { .metaCheckpoint(path: path, reason: reason) }
        func shape(_ name: String) -> [Int]? { file.tensors[name]?.shape }
        guard let cls = shape("cls_token"), cls.count == 3, cls[0] == 1, cls[1] == 1 else {
            throw fail(file.tensors["cls_token"] == nil ? "it has no 'cls_token' (is it a DINOv3 ViT backbone?)" : "'cls_token' is not [1, 1, D]")
        }
        let d = cls[2]
        guard let patch = shape("patch_embed.proj.weight"), patch.count == 4, patch[0] == d, patch[2] == patch[3] else {
            throw fail("'patch_embed.proj.weight' is missing or not [D, channels, p, p]")
        }
        let blockIndices = Set(file.names.compactMap { name -> Int? in
            let parts = name.split(separator: ".", maxSplits: 2)
            return parts.count == 3 && parts[0] == "blocks" ? Int(parts[1]).flatMap { $0 >= 0 ? $0 : nil } : nil
        })
        guard let last = blockIndices.max(), blockIndices.min() == 0 else { throw fail("it has no transformer blocks ('blocks.0.…')") }
        let gated = file.tensors["blocks.0.mlp.w1.weight"] != nil
        let up = gated ? "blocks.0.mlp.w1" : "blocks.0.mlp.fc1"
        guard let mlp = shape(up + ".weight"), mlp.count == 2 else { throw BackboneError.missingTensor(key: up + ".weight", expectedShape: [-1, d]) }

        var c = DINOv3Config()
        c.hiddenSize = d
        c.patchSize = patch[2]
        c.numChannels = patch[1]
        c.numHiddenLayers = min(last + 1, DINOv3Config.limits.layers.upperBound + 1)
        c.numRegisterTokens = shape("storage_tokens").flatMap { $0.count == 3 ? $0[1] : nil } ?? 0
        c.useGatedMLP = gated
        c.hiddenAct = gated ? "silu" : "gelu"
        c.intermediateSize = mlp[0]
        c.queryBias = file.tensors["blocks.0.attn.qkv.bias"] != nil
        c.valueBias = c.queryBias
        c.projBias = file.tensors["blocks.0.attn.proj.bias"] != nil
        c.mlpBias = file.tensors[up + ".bias"] != nil

        // Heads: the stored periods are head dim / 4 values; else the architecture's name.
        let named = arch ?? MetaArchitecture(fileName: fileName).flatMap { $0.shape.width == d && $0.shape.depth == last + 1 ? $0 : nil }
        if let stored = file.tensors["rope_embed.periods"] {
            guard stored.shape.count == 1, stored.elementCount > 0, d % (4 * stored.elementCount) == 0 else {
                throw fail("'rope_embed.periods' has shape \(stored.shape), which does not divide the width \(d) into heads")
            }
            let values = try file.floats("rope_embed.periods")
            guard values.allSatisfy({ $0 > 0 }) else { throw fail("'rope_embed.periods' holds values that are not positive") }
            periods = values
            c.numAttentionHeads = d / (4 * stored.elementCount)
        } else if let named {
            periods = nil
            c.numAttentionHeads = named.shape.heads
        } else {
            throw fail("the number of attention heads cannot be read from its tensors (no 'rope_embed.periods'): name the architecture with --arch (\(MetaArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let arch {
            let s = arch.shape
            guard (s.width, s.depth, s.heads, s.mlp, s.gated) == (d, c.numHiddenLayers, c.numAttentionHeads, c.intermediateSize, gated) else {
                throw fail("--arch \(arch.rawValue) is a \(ModelVariant.name(for: arch.config)), but the file holds a \(ModelVariant.name(for: c)) (MLP \(c.intermediateSize))")
            }
        }
        (maskedBiases, c.keyBias) = try Self.maskBiases(file, depth: c.numHiddenLayers, width: d)
        try c.validate(path: path)
        config = c
    }

    /// Each block's q/k/v bias times its mask (Meta's `LinearKMaskedBias`), and whether any key
    /// bias survives the mask (then the Hugging Face layout keeps `k_proj.bias`).
    private static func maskBiases(_ file: TorchCheckpointFile, depth: Int, width: Int) throws -> ([String: [Float]], Bool) {
        var masked: [String: [Float]] = [:]
        var keyBias = false
        for i in 0..<depth {
            let name = "blocks.\(i).attn.qkv.bias"
            guard let info = file.tensors[name], info.shape == [3 * width] else { continue }  // absent or misshapen: reported by the layout
            var values = try file.floats(name)
            if let mask = file.tensors[name + "_mask"] {
                guard mask.shape == info.shape else {
                    throw BackboneError.metaCheckpoint(path: file.path, reason: "'\(name)_mask' has shape \(mask.shape), not \(info.shape)")
                }
                values = zip(values, try file.floats(name + "_mask")).map { $0 * $1 }
                masked[name] = values
            }
            keyBias = keyBias || values[width..<(2 * width)].contains { $0 != 0 }
        }
        return (masked, keyBias)
    }
}

extension MetaArchitecture {
    /// The Hugging Face config of the released model.
    var config: DINOv3Config {
        var c = DINOv3Config()
        let s = shape
        (c.hiddenSize, c.numHiddenLayers, c.numAttentionHeads, c.intermediateSize, c.useGatedMLP) = (s.width, s.depth, s.heads, s.mlp, s.gated)
        c.hiddenAct = s.gated ? "silu" : "gelu"
        c.numRegisterTokens = 4
        c.queryBias = self != .vit7b16
        c.valueBias = c.queryBias
        return c
    }
}
