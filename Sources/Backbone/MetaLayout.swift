import SafeTensors
import TorchFile

/// A state dict in Meta's layout (the DINOv3 repository's names) read as the Hugging Face layout:
/// the inverse of `transformers`' convert_dinov3_vit_to_hf.py, spelled once, so that loading a
/// `.pth` and converting it agree. Every Hugging Face tensor comes from one Meta tensor:
///
/// | Hugging Face                          | Meta                                     |
/// |---------------------------------------|------------------------------------------|
/// | embeddings.cls_token                  | cls_token                                |
/// | embeddings.mask_token [1, 1, D]       | mask_token [1, D]                        |
/// | embeddings.register_tokens            | storage_tokens                           |
/// | embeddings.patch_embeddings.*         | patch_embed.proj.*                       |
/// | layer.N.norm1.* / norm2.*             | blocks.N.norm1.* / norm2.*               |
/// | layer.N.attention.{q,k,v}_proj.weight | blocks.N.attn.qkv.weight, rows in thirds |
/// | layer.N.attention.{q,k,v}_proj.bias   | blocks.N.attn.qkv.bias × qkv.bias_mask   |
/// | layer.N.attention.o_proj.*            | blocks.N.attn.proj.*                     |
/// | layer.N.layer_scale{1,2}.lambda1      | blocks.N.ls{1,2}.gamma                   |
/// | layer.N.mlp.up_proj / down_proj       | blocks.N.mlp.fc1 / fc2 (plain MLP)       |
/// | layer.N.mlp.gate_proj/up_proj/down_proj | blocks.N.mlp.w1 / w2 / w3 (SwiGLU)     |
/// | norm.*                                | norm.*                                   |
///
/// `rope_embed.periods` has no Hugging Face tensor: it is kept as `ropePeriods`. The key bias,
/// which Meta's mask zeroes, is dropped when it is zero after masking (as the published
/// conversion drops it); `local_cls_norm` (training only) is ignored.
struct MetaLayout {
    /// Where one Hugging Face tensor's values come from.
    enum Source {
        /// Bytes `range` of the row-major Meta tensor `name`, unchanged.
        case bytes(name: String, range: Range<Int>)
        /// Values computed at load (the q/k/v biases with Meta's mask applied).
        case values([Float])
    }

    struct Planned {
        let name: String
        let shape: [Int]
        let dtype: SafeTensorsDType
        let source: Source
    }

    let file: TorchCheckpointFile
    let config: DINOv3Config
    /// `rope_embed.periods` as stored (bf16-rounded in Meta's releases), nil when absent.
    let ropePeriods: [Float]?
    /// The Hugging Face tensors, by name order.
    let tensors: [Planned]

    /// Meta tensors that have no Hugging Face counterpart and are deliberately left out.
    static func isIgnored(_ name: String) -> Bool {
        name == "rope_embed.periods" || name.hasPrefix("local_cls_norm.") || (name.hasPrefix("blocks.") && name.hasSuffix(".attn.qkv.bias_mask"))
    }

    /// Reads the layout of `file`; `arch` (or the file name) supplies the head count when the
    /// RoPE periods are absent, and an explicit `arch` must match the tensors.
    init(file: TorchCheckpointFile, arch: MetaArchitecture?, fileName: String) throws {
        self.file = file
        let inference = try MetaConfigInference(file: file, arch: arch, fileName: fileName)
        config = inference.config
        ropePeriods = inference.periods
        var consumed = Set<String>()
        var planned: [Planned] = []
        let specification = WeightSpecification.of(config)
        for (name, shape) in specification.shapes.sorted(by: { $0.key < $1.key }) {
            guard let entry = try Self.source(of: name, shape: shape, file: file, gated: config.useGatedMLP,
                                              masked: inference.maskedBiases, optional: specification.optional.contains(name) || shape.contains(0)) else { continue }
            consumed.insert(entry.meta)
            planned.append(Planned(name: name, shape: shape, dtype: entry.dtype, source: entry.source))
        }
        let unexpected = file.names.filter { !consumed.contains($0) && !Self.isIgnored($0) }
        if !unexpected.isEmpty { throw BackboneError.unexpectedTensors(keys: unexpected) }
        tensors = planned
    }

    /// The Meta tensor behind Hugging Face tensor `name` of `shape`, or nil when it is optional and absent.
    private static func source(of name: String, shape: [Int], file: TorchCheckpointFile, gated: Bool, masked: [String: [Float]],
                               optional: Bool) throws -> (meta: String, dtype: SafeTensorsDType, source: Source)? {
        let (meta, third) = metaName(of: name, gated: gated)
        guard let info = file.tensors[meta] else {
            // No registers: transformers still keeps (and expects) a [1, 0, D] tensor.
            if shape.contains(0) { return (meta, file.tensors["cls_token"]?.dtype ?? .f32, .values([])) }
            if optional { return nil }
            throw BackboneError.missingTensor(key: meta, expectedShape: third == nil ? shape : [3 * shape[0]] + shape.dropFirst())
        }
        guard let third else {
            let maskToken = name == "embeddings.mask_token" && info.shape == Array(shape.dropFirst())
            guard info.shape == shape || maskToken else { throw mismatch(meta, info.shape, shape, file) }
            return (meta, info.dtype, .bytes(name: meta, range: 0..<info.byteCount))
        }
        let fused = [3 * shape[0]] + shape.dropFirst()
        guard info.shape == fused else { throw mismatch(meta, info.shape, fused, file) }
        if let values = masked[meta] {
            let n = shape[0]
            return (meta, info.dtype, .values(Array(values[(third * n)..<((third + 1) * n)])))
        }
        let part = info.byteCount / 3
        return (meta, info.dtype, .bytes(name: meta, range: (third * part)..<((third + 1) * part)))
    }

    private static func mismatch(_ meta: String, _ found: [Int], _ expected: [Int], _ file: TorchCheckpointFile) -> BackboneError {
        .metaCheckpoint(path: file.path, reason: "'\(meta)' has shape \(found), but the architecture read from the other tensors needs \(expected)")
    }

    /// The Meta name of a Hugging Face name (of a plain or `gated` MLP), with the third of a
    /// fused q/k/v tensor it is.
    static func metaName(of name: String, gated: Bool) -> (String, third: Int?) {
        let whole: [String: String] = [
            "embeddings.cls_token": "cls_token", "embeddings.mask_token": "mask_token",
            "embeddings.register_tokens": "storage_tokens", "embeddings.patch_embeddings.weight": "patch_embed.proj.weight",
            "embeddings.patch_embeddings.bias": "patch_embed.proj.bias",
        ]
        if let meta = whole[name] { return (meta, nil) }
        let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "layer" else { return (name, nil) }  // norm.*
        let block = "blocks.\(parts[1])."
        let rest = parts[2], leaf = rest.split(separator: ".").last.map(String.init) ?? ""
        for (i, projection) in ["q_proj", "k_proj", "v_proj"].enumerated() where rest.hasPrefix("attention.\(projection).") {
            return (block + "attn.qkv." + leaf, i)
        }
        let renames: [(String, String)] = [
            ("attention.o_proj.", "attn.proj."), ("layer_scale1.lambda1", "ls1.gamma"), ("layer_scale2.lambda1", "ls2.gamma"),
            ("mlp.gate_proj.", "mlp.w1."), ("mlp.up_proj.", gated ? "mlp.w2." : "mlp.fc1."),
            ("mlp.down_proj.", gated ? "mlp.w3." : "mlp.fc2."),
        ]
        for (hf, meta) in renames where rest.hasPrefix(hf) {
            return (block + meta + rest.dropFirst(hf.count), nil)
        }
        return (block + rest, nil)  // norm1, norm2
    }
}
