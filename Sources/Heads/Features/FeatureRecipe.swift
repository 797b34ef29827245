import Foundation
import ImagePreprocessing

/// Which backbone tokens make a feature vector (docs/protocols.md, section 1). Registers are
/// never used.
public enum FeatureTokens: String, Sendable, Codable, CaseIterable {
    /// CLS of each of the last n blocks, concatenated.
    case cls
    /// CLS of each of the last n blocks, then the mean patch token of the last block (DINOv3's default).
    case clsAvgpool = "cls+avgpool"
    /// Patch tokens, one vector per patch (dense heads).
    case patch
}

/// Everything that decides the features a head consumes: which tokens, of which blocks, from
/// images preprocessed how. A head records it (in its metadata, as `key`), feature caches are
/// keyed by it, and a head refuses features made any other way.
public struct FeatureRecipe: Sendable, Codable, Equatable {
    public var tokens: FeatureTokens
    /// How many blocks: the last n (1 or 4 in Meta's classification protocol), or as many as `layers`.
    public var blocks: Int
    /// Explicit block indices (0-based, ascending; e.g. Meta's 2, 5, 8, 11 for multi-layer
    /// segmentation with ViT-S/B); nil means the last `blocks` blocks.
    public var layers: [Int]?
    public var preprocessing: Preprocessing

    public init(tokens: FeatureTokens = .clsAvgpool, blocks: Int = 1, preprocessing: Preprocessing = Preprocessing()) {
        self.tokens = tokens
        self.blocks = blocks
        self.preprocessing = preprocessing
    }

    /// A recipe over the blocks `layers` (0-based, ascending).
    public init(tokens: FeatureTokens, layers: [Int], preprocessing: Preprocessing = Preprocessing()) {
        self.tokens = tokens
        blocks = layers.count
        self.layers = layers
        self.preprocessing = preprocessing
    }

    /// Bounds on the blocks a recipe reads (the command line's `--blocks` and `--layers` too).
    public static let blockRange = 1...1024
    public static let layerRange = 0...1023

    /// Checks a recipe against the bounds the command line applies (`Preprocessing.validate`
    /// for the images, `blockRange`/`layerRange` for the blocks); the message names the field.
    public func validate() throws {
        try preprocessing.validate()
        guard Self.blockRange.contains(blocks) else {
            throw ImageError.invalid("blocks is \(blocks); it must be in \(Self.blockRange.lowerBound)...\(Self.blockRange.upperBound)")
        }
        if let layers {
            guard layers.count == blocks, layers.allSatisfy(Self.layerRange.contains), zip(layers, layers.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw ImageError.invalid("layers \(layers.prefix(8)) must be \(blocks) ascending block indices in \(Self.layerRange.lowerBound)...\(Self.layerRange.upperBound)")
            }
        }
    }

    /// The block indices this recipe reads from a backbone of `depth` blocks, oldest first.
    public func layerIndices(depth: Int) -> [Int] {
        layers ?? Array(max(0, depth - blocks)..<depth)
    }

    /// Feature width for a backbone of width `dim`.
    public func width(dim: Int) -> Int {
        switch tokens {
        case .cls: return blocks * dim
        case .clsAvgpool: return blocks * dim + dim
        case .patch: return blocks * dim
        }
    }

    /// The canonical text of the recipe (JSON with sorted keys): equal recipes, equal keys.
    public var key: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Reads a recipe from its key.
    public init(key: String) throws {
        do {
            self = try JSONDecoder().decode(FeatureRecipe.self, from: Data(key.utf8))
        } catch {
            throw HeadError.badMetadata(path: "", key: HeadMetadata.CodingKeys.featureRecipe.rawValue,
                                        reason: "'\(key.prefix(120))' is not a feature recipe")
        }
    }
}
