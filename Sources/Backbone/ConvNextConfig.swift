import Foundation
import Support

/// The architecture of a DINOv3 ConvNeXt, read from a Hugging Face `config.json`
/// (`model_type: "dinov3_convnext"`, `transformers`' `DINOv3ConvNextConfig`; its defaults are
/// ConvNeXt-T's). Four stages of `depths[i]` blocks at widths `hiddenSizes[i]`, output stride 32.
public struct DINOv3ConvNextConfig: Codable, Sendable, Equatable {
    public var modelType = "dinov3_convnext"
    public var hiddenSizes = [96, 192, 384, 768]
    public var depths = [3, 3, 9, 3]
    public var hiddenAct = "gelu"
    public var layerNormEps = 1e-6
    public var layerScaleInitValue = 1e-6
    public var numChannels = 3
    public var imageSize = 224

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", hiddenSizes = "hidden_sizes", depths, hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps", layerScaleInitValue = "layer_scale_init_value"
        case numChannels = "num_channels", imageSize = "image_size"
    }

    public init() {}

    /// Output stride: a 4x4 stem and three 2x2 downsamplings.
    public static let stride = 32

    /// Stages: every DINOv3 ConvNeXt has four, at strides 4, 8, 16 and 32.
    public static let stageCount = 4

    /// Stage `stage`'s map for an input of `height` x `width` pixels (multiples of 32):
    /// [channels, height / s, width / s] at stride s = 4 x 2^stage.
    public func stageShape(_ stage: Int, height: Int, width: Int) throws -> [Int] {
        guard hiddenSizes.indices.contains(stage) else {
            throw BackboneError.badInput("stage \(stage) was asked for; a ConvNeXt has stages 0 to \(hiddenSizes.count - 1)")
        }
        let stride = 4 << stage
        return [hiddenSizes[stage], height / stride, width / stride]
    }

    /// Decodes and validates config.json bytes (a field missing from the file takes its default;
    /// unknown fields are ignored); `path` names them in messages.
    static func decode(_ data: Data, path: String) throws -> DINOv3ConvNextConfig {
        let config: DINOv3ConvNextConfig
        do {
            guard case let .object(file) = try StrictJSON.parse(data),
                  case let .object(defaults) = try StrictJSON.parse(JSONEncoder().encode(DINOv3ConvNextConfig())) else {
                throw BackboneError.badConfig(path: path, reason: "not a JSON object")
            }
            let given = Dictionary(file, uniquingKeysWith: { a, _ in a })
            config = try StrictJSONDecoder.decode(DINOv3ConvNextConfig.self, from: .object(defaults.map { ($0.0, given[$0.0] ?? $0.1) }))
        } catch let error as BackboneError { throw error } catch {
            throw BackboneError.badConfig(path: path, reason: "not a valid DINOv3 ConvNeXt config: \(error)")
        }
        func fail(_ reason: String) throws -> Never { throw BackboneError.badConfig(path: path, reason: reason) }
        if config.hiddenSizes.count != 4 || config.depths.count != 4 { try fail("hidden_sizes and depths must have 4 entries (one per stage)") }
        if !config.hiddenSizes.allSatisfy({ (1...16_384).contains($0) }) { try fail("hidden_sizes must lie in 1...16384") }
        if !config.depths.allSatisfy({ (1...256).contains($0) }) { try fail("depths must lie in 1...256") }
        if config.hiddenAct != "gelu" { try fail("hidden_act '\(config.hiddenAct.prefix(64))' is not supported (DINOv3 ConvNeXts use gelu)") }
        if config.numChannels != 3 { try fail("num_channels is \(config.numChannels); dinoprobe feeds RGB images (3 channels)") }
        if !(config.layerNormEps.isFinite && config.layerNormEps > 0 && config.layerNormEps < 1) { try fail("layer_norm_eps must be a finite number in (0, 1)") }
        return config
    }

    /// Whether config.json bytes name a DINOv3 ConvNeXt (`model_type`), read strictly.
    static func isConvNext(_ data: Data) -> Bool {
        struct ModelType: Decodable { let model_type: String? }
        return (try? StrictJSONDecoder.decode(ModelType.self, from: data))?.model_type == "dinov3_convnext"
    }

    /// How the feature code sees it: tokens are the pooled feature (the "CLS") and the last
    /// stage's map at stride 32 (the "patches"), of the last stage's width; one block, no registers.
    var featureView: DINOv3Config {
        var c = DINOv3Config()
        c.modelType = modelType
        c.patchSize = Self.stride
        c.hiddenSize = hiddenSizes[3]
        c.intermediateSize = 4 * hiddenSizes[3]
        c.numHiddenLayers = 1
        c.numAttentionHeads = 1
        c.numRegisterTokens = 0
        c.layerNormEps = layerNormEps
        c.imageSize = imageSize
        return c
    }

    /// "ConvNeXt-T/S/B/L" for the released shapes.
    public var variantName: String {
        let known: [String: ([Int], [Int])] = [
            "ConvNeXt-T": ([96, 192, 384, 768], [3, 3, 9, 3]), "ConvNeXt-S": ([96, 192, 384, 768], [3, 3, 27, 3]),
            "ConvNeXt-B": ([128, 256, 512, 1024], [3, 3, 27, 3]), "ConvNeXt-L": ([192, 384, 768, 1536], [3, 3, 27, 3]),
        ]
        return known.first { $0.value == (hiddenSizes, depths) }?.key ?? "ConvNeXt (widths \(hiddenSizes), depths \(depths))"
    }

    /// Multiply-adds of one image of `height` x `width` pixels (convolutions and linear layers).
    public func multiplyAdds(height: Int, width: Int) -> Int {
        var h = height / 4, w = width / 4, total = h * w * hiddenSizes[0] * numChannels * 16
        for (i, c) in hiddenSizes.enumerated() {
            if i > 0 {
                (h, w) = (h / 2, w / 2)
                total += h * w * c * hiddenSizes[i - 1] * 4
            }
            total += depths[i] * h * w * (49 * c + 8 * c * c)
        }
        return total
    }
}
