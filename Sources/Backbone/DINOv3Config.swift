import Foundation
import Support

/// The architecture of a DINOv3 ViT, read from a Hugging Face `config.json`
/// (`model_type: "dinov3_vit"`). Missing keys take the `transformers` defaults; unknown keys
/// are ignored.
public struct DINOv3Config: Codable, Sendable, Equatable {
    public var modelType: String
    public var patchSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var hiddenAct: String
    public var layerNormEps: Double
    public var ropeTheta: Double
    public var imageSize: Int
    public var numChannels: Int
    public var queryBias: Bool
    public var keyBias: Bool
    public var valueBias: Bool
    public var projBias: Bool
    public var mlpBias: Bool
    public var useGatedMLP: Bool
    public var numRegisterTokens: Int

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", patchSize = "patch_size", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps", ropeTheta = "rope_theta", imageSize = "image_size"
        case numChannels = "num_channels", queryBias = "query_bias", keyBias = "key_bias"
        case valueBias = "value_bias", projBias = "proj_bias", mlpBias = "mlp_bias"
        case useGatedMLP = "use_gated_mlp", useSwiGLU = "use_swiglu_ffn"
        case numRegisterTokens = "num_register_tokens"
    }

    /// ViT-S/16 as released (the `transformers` defaults plus 4 registers).
    public init(hiddenSize: Int = 384, intermediateSize: Int = 1536, numHiddenLayers: Int = 12,
                numAttentionHeads: Int = 6, hiddenAct: String = "gelu", numRegisterTokens: Int = 4,
                useGatedMLP: Bool = false, queryBias: Bool = true, keyBias: Bool = false,
                valueBias: Bool = true, projBias: Bool = true, mlpBias: Bool = true) {
        modelType = "dinov3_vit"
        patchSize = 16
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.hiddenAct = hiddenAct
        layerNormEps = 1e-5
        ropeTheta = 100
        imageSize = 224
        numChannels = 3
        self.queryBias = queryBias
        self.keyBias = keyBias
        self.valueBias = valueBias
        self.projBias = projBias
        self.mlpBias = mlpBias
        self.useGatedMLP = useGatedMLP
        self.numRegisterTokens = numRegisterTokens
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DINOv3Config(numRegisterTokens: 0)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? d.modelType
        patchSize = try Self.decodeSide(c, .patchSize) ?? d.patchSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? d.hiddenAct
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? d.layerNormEps
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? d.ropeTheta
        imageSize = try Self.decodeSide(c, .imageSize) ?? d.imageSize
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? d.numChannels
        queryBias = try c.decodeIfPresent(Bool.self, forKey: .queryBias) ?? d.queryBias
        keyBias = try c.decodeIfPresent(Bool.self, forKey: .keyBias) ?? d.keyBias
        valueBias = try c.decodeIfPresent(Bool.self, forKey: .valueBias) ?? d.valueBias
        projBias = try c.decodeIfPresent(Bool.self, forKey: .projBias) ?? d.projBias
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? d.mlpBias
        useGatedMLP = try c.decodeIfPresent(Bool.self, forKey: .useGatedMLP)
            ?? c.decodeIfPresent(Bool.self, forKey: .useSwiGLU) ?? false
        numRegisterTokens = try c.decodeIfPresent(Int.self, forKey: .numRegisterTokens) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(layerNormEps, forKey: .layerNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(numChannels, forKey: .numChannels)
        try c.encode(queryBias, forKey: .queryBias)
        try c.encode(keyBias, forKey: .keyBias)
        try c.encode(valueBias, forKey: .valueBias)
        try c.encode(projBias, forKey: .projBias)
        try c.encode(mlpBias, forKey: .mlpBias)
        try c.encode(useGatedMLP, forKey: .useGatedMLP)
        try c.encode(numRegisterTokens, forKey: .numRegisterTokens)
    }

    /// config.json text as `transformers` writes it (float fields keep a decimal point, which
    /// its strict config validation requires).
    public func jsonText() -> String {
        func float(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(format: "%.1f", v) : "\(v)" }
        let fields: [(String, String)] = [
            ("architectures", "[\"DINOv3ViTModel\"]"), ("model_type", "\"\(modelType)\""),
            ("patch_size", "\(patchSize)"), ("hidden_size", "\(hiddenSize)"), ("intermediate_size", "\(intermediateSize)"),
            ("num_hidden_layers", "\(numHiddenLayers)"), ("num_attention_heads", "\(numAttentionHeads)"),
            ("hidden_act", "\"\(hiddenAct)\""), ("layer_norm_eps", float(layerNormEps)), ("rope_theta", float(ropeTheta)),
            ("image_size", "\(imageSize)"), ("num_channels", "\(numChannels)"), ("query_bias", "\(queryBias)"),
            ("key_bias", "\(keyBias)"), ("value_bias", "\(valueBias)"), ("proj_bias", "\(projBias)"),
            ("mlp_bias", "\(mlpBias)"), ("use_gated_mlp", "\(useGatedMLP)"), ("num_register_tokens", "\(numRegisterTokens)"),
            ("layerscale_value", "1.0"), ("pos_embed_rescale", "2.0"),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
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
        } catch let error as DecodingError {
            throw BackboneError.badConfig(path: path, reason: Self.describe(error))
        }
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
        if modelType != "dinov3_vit" { try fail("model_type is '\(modelType.prefix(64))', expected 'dinov3_vit' (a DINOv3 ViT; ConvNeXt variants are not supported)") }
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
    public var tensorShapes: [String: [Int]] { Checkpoint.expectedShapes(self) }
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
