import Foundation
import Support

/// The architecture of a DINOv3 ViT, read from a Hugging Face `config.json`
/// (`model_type: "dinov3_vit"`). The defaults, in one place below, are `transformers`' (so a
/// key missing from the file means its default); unknown keys are ignored. `vitS16` is the
/// released ViT-S/16 (the defaults plus 4 registers).
public struct DINOv3Config: Codable, Sendable, Equatable {
    public var modelType = "dinov3_vit"
    public var patchSize = 16
    public var hiddenSize = 384
    public var intermediateSize = 1536
    public var numHiddenLayers = 12
    public var numAttentionHeads = 6
    public var hiddenAct = "gelu"
    public var layerNormEps = 1e-5
    public var ropeTheta = 100.0
    public var imageSize = 224
    public var numChannels = 3
    public var queryBias = true
    public var keyBias = false
    public var valueBias = true
    public var projBias = true
    public var mlpBias = true
    public var useGatedMLP = false
    public var numRegisterTokens = 0

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", patchSize = "patch_size", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps", ropeTheta = "rope_theta", imageSize = "image_size"
        case numChannels = "num_channels", queryBias = "query_bias", keyBias = "key_bias"
        case valueBias = "value_bias", projBias = "proj_bias", mlpBias = "mlp_bias"
        case useGatedMLP = "use_gated_mlp", numRegisterTokens = "num_register_tokens"
    }

    /// Older files name the gated MLP `use_swiglu_ffn`.
    enum LegacyKeys: String, CodingKey { case useSwiGLU = "use_swiglu_ffn" }

    /// `transformers`' defaults.
    public init() {}

    /// ViT-S/16 as released.
    public static var vitS16: DINOv3Config {
        var c = DINOv3Config()
        c.numRegisterTokens = 4
        return c
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.modelType, &modelType)
        patchSize = try Self.decodeSide(c, .patchSize) ?? patchSize
        try read(.hiddenSize, &hiddenSize)
        try read(.intermediateSize, &intermediateSize)
        try read(.numHiddenLayers, &numHiddenLayers)
        try read(.numAttentionHeads, &numAttentionHeads)
        try read(.hiddenAct, &hiddenAct)
        try read(.layerNormEps, &layerNormEps)
        try read(.ropeTheta, &ropeTheta)
        imageSize = try Self.decodeSide(c, .imageSize) ?? imageSize
        try read(.numChannels, &numChannels)
        try read(.queryBias, &queryBias)
        try read(.keyBias, &keyBias)
        try read(.valueBias, &valueBias)
        try read(.projBias, &projBias)
        try read(.mlpBias, &mlpBias)
        try read(.numRegisterTokens, &numRegisterTokens)
        if c.contains(.useGatedMLP) {
            try read(.useGatedMLP, &useGatedMLP)
        } else if let legacy = try decoder.container(keyedBy: LegacyKeys.self).decodeIfPresent(Bool.self, forKey: .useSwiGLU) {
            useGatedMLP = legacy
        }
    }

    /// config.json text as `transformers` writes it: every field of `CodingKeys` with its JSON
    /// type (integers as integers even when 0 or 1, floats with a decimal point, booleans as
    /// true/false: transformers' strict config check refuses anything else), plus the
    /// architecture name and the training-only fields it expects. Throws only for a non-finite
    /// float, which `validate` refuses.
    public func jsonText() throws -> String {
        guard case let .object(fields) = try JSONValueEncoder.encode(self) else { return "{}\n" }
        let added: [(String, JSONValue)] = [
            ("architectures", .array([.string("DINOv3ViTModel")])),
            ("layerscale_value", try JSONValueEncoder.floatText(1.0)),
            ("pos_embed_rescale", try JSONValueEncoder.floatText(2.0)),
        ]
        return JSONValue.object(fields + added).text(indent: 2, sortedKeys: true) + "\n"
    }

    /// `patch_size` and `image_size` may be an int or a [h, w] pair; DINOv3 uses square values.
    private static func decodeSide(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int? {
        guard c.contains(key) else { return nil }
        if let v = try? c.decode(Int.self, forKey: key) { return v }
        if let pair = try? c.decode([Int].self, forKey: key), pair.count == 2, pair[0] == pair[1] { return pair[0] }
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected an integer or a square [n, n] pair")
    }

    /// Largest config.json read (real ones are about 1 KB).
    public static let maxFileBytes: Int64 = 1 << 20

    /// Reads and validates `config.json`: strict JSON (no duplicate keys), then every field
    /// against its valid range, so an absurd config fails in milliseconds, before any allocation.
    public static func load(from url: URL) throws -> DINOv3Config {
        let data: Data
        do { data = try FileSystem.read(url.path, limit: maxFileBytes) } catch {
            throw BackboneError.badConfig(path: url.path, reason: "cannot read it (\(error))")
        }
        return try decode(data, path: url.path)
    }

    /// Decodes and validates config.json bytes; `path` names them in messages.
    public static func decode(_ data: Data, path: String) throws -> DINOv3Config {
        let config: DINOv3Config
        do {
            config = try StrictJSONDecoder.decode(DINOv3Config.self, from: data)
        } catch let failure as StrictJSON.Failure {
            throw BackboneError.badConfig(path: path, reason: "not valid JSON: \(failure)")
        } catch let error as DecodingError { throw BackboneError.badConfig(path: path, reason: Self.describe(error)) }
        try config.validate(path: path)
        return config
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .keyNotFound(_, context), let .dataCorrupted(context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            return key.isEmpty ? context.debugDescription : "\(key): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// Valid ranges, generous beyond every released model (ViT-7B: D 4096, 40 layers, 32 heads).
    static let limits = (patch: 1...256, hidden: 4...65_536, heads: 1...1024, intermediate: 1...262_144,
                         layers: 1...1024, registers: 0...4096, imageSize: 1...65_536)

    func validate(path: String) throws {
        func fail(_ reason: String) throws -> Never { throw BackboneError.badConfig(path: path, reason: reason) }
        func check(_ value: Int, _ range: ClosedRange<Int>, _ key: String) throws {
            if !range.contains(value) { try fail("\(key) is \(value), outside \(range.lowerBound)...\(range.upperBound)") }
        }
        if modelType != "dinov3_vit" { try fail("model_type is '\(modelType.prefix(64))', expected 'dinov3_vit' (a DINOv3 ViT) or 'dinov3_convnext'") }
        try check(patchSize, Self.limits.patch, "patch_size")
        try check(hiddenSize, Self.limits.hidden, "hidden_size")
        try check(numAttentionHeads, Self.limits.heads, "num_attention_heads")
        try check(intermediateSize, Self.limits.intermediate, "intermediate_size")
        try check(numHiddenLayers, Self.limits.layers, "num_hidden_layers")
        try check(numRegisterTokens, Self.limits.registers, "num_register_tokens")
        try check(imageSize, Self.limits.imageSize, "image_size")
        if hiddenSize % numAttentionHeads != 0 {
            try fail("hidden_size \(hiddenSize) is not divisible by num_attention_heads \(numAttentionHeads)")
        }
        if headDim % 4 != 0 { try fail("head dimension \(headDim) is not a multiple of 4, which RoPE needs") }
        if numChannels != 3 { try fail("num_channels is \(numChannels); dinoprobe feeds RGB images (3 channels)") }
        if !(layerNormEps.isFinite && layerNormEps > 0 && layerNormEps < 1) { try fail("layer_norm_eps is \(layerNormEps); it must be a finite number in (0, 1)") }
        if !(ropeTheta.isFinite && ropeTheta > 0 && ropeTheta <= 1e12) { try fail("rope_theta is \(ropeTheta); it must be a finite number in (0, 1e12]") }
        if Activation(name: hiddenAct) == nil { try fail("hidden_act '\(hiddenAct.prefix(64))' is not supported (gelu, gelu_pytorch_tanh, gelu_new, silu, swish, relu, quick_gelu)") }
    }

    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// Every tensor name this architecture uses, with its shape.
    public var tensorShapes: [String: [Int]] { WeightSpecification.of(self).shapes }
}

/// MLP activations that `transformers` names in `hidden_act`.
enum Activation {
    case gelu, geluTanh, silu, relu, quickGelu

    init?(name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_pytorch_tanh", "gelu_new": self = .geluTanh
        case "silu", "swish": self = .silu
        case "relu": self = .relu
        case "quick_gelu": self = .quickGelu
        default: return nil
        }
    }
}
