import Foundation
import ImagePreprocessing
import Support

/// What a head file holds.
public enum HeadKind: String, Codable, Sendable, CaseIterable {
    case classifier, segmenter, depth
}

/// Describes a head: what it predicts and which features it was trained on. Saved in the
/// safetensors `__metadata__` (all values are strings there; arrays and dictionaries as JSON),
/// under the keys of `CodingKeys` plus `format=dinoprobe-head` and `format_version=1`.
public struct HeadMetadata: Codable, Sendable, Equatable {
    /// Classifier, segmenter or depth head.
    public var kind: HeadKind
    /// How the features were made: a `FeatureRecipe` key.
    public var featureRecipe: String
    /// The backbone's name, e.g. "facebook/dinov3-vits16-pretrain-lvd1689m".
    public var backboneID: String
    /// A hash of the backbone weights; features from other weights are refused.
    public var backboneFingerprint: String
    /// One name per class (or empty).
    public var classNames: [String]
    /// RGB triples, one per class, for drawing segmentation masks.
    public var palette: [UInt8]?
    /// The image size the head was trained at.
    public var inputResolution: Int?
    /// Anything else worth keeping (training options, metrics, ...).
    public var extra: [String: String]

    /// The value of `format` in files written by dinoprobe.
    public static let format = "dinoprobe-head"
    /// The value of `format_version` in files written by this code.
    public static let formatVersion = "1"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, featureRecipe = "feature_recipe", backboneID = "backbone_id", backboneFingerprint = "backbone_fingerprint"
        case classNames = "class_names", palette, inputResolution = "input_resolution", extra
    }

    public init(kind: HeadKind, featureRecipe: String = "", backboneID: String = "",
                backboneFingerprint: String = "", classNames: [String] = [], palette: [UInt8]? = nil,
                inputResolution: Int? = nil, extra: [String: String] = [:]) {
        (self.kind, self.featureRecipe, self.backboneID) = (kind, featureRecipe, backboneID)
        (self.backboneFingerprint, self.classNames, self.palette) = (backboneFingerprint, classNames, palette)
        (self.inputResolution, self.extra) = (inputResolution, extra)
    }

    /// Decodes with defaults for every key but `kind`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(HeadKind.self, forKey: .kind)
        featureRecipe = try c.decodeIfPresent(String.self, forKey: .featureRecipe) ?? ""
        backboneID = try c.decodeIfPresent(String.self, forKey: .backboneID) ?? ""
        backboneFingerprint = try c.decodeIfPresent(String.self, forKey: .backboneFingerprint) ?? ""
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames) ?? []
        palette = try c.decodeIfPresent([UInt8].self, forKey: .palette)
        inputResolution = try c.decodeIfPresent(Int.self, forKey: .inputResolution)
        extra = try c.decodeIfPresent([String: String].self, forKey: .extra) ?? [:]
    }

    /// The feature recipe the head was trained on (heads saved before recipes were stored as
    /// keys kept it in `extra["recipe"]`; those are read too).
    /// The recipe is checked against the command line's bounds (`FeatureRecipe.validate`).
    public func recipe(path: String = "") throws -> FeatureRecipe {
        guard let recipe = storedRecipe else {
            throw HeadError.badMetadata(path: path, key: CodingKeys.featureRecipe.rawValue,
                                        reason: "the head does not record the features it was trained on; train it again with dinoprobe")
        }
        do { try recipe.validate() } catch {
            throw HeadError.badMetadata(path: path, key: CodingKeys.featureRecipe.rawValue,
                                        reason: "\(error); the file was altered or not written by dinoprobe (train the head again)")
        }
        return recipe
    }

    /// The recipe as stored, unchecked; nil when none can be read.
    private var storedRecipe: FeatureRecipe? {
        if let recipe = try? FeatureRecipe(key: featureRecipe) { return recipe }
        if let legacy = extra["recipe"], let recipe = try? FeatureRecipe(key: legacy) { return recipe }
        return Self.legacySummary(featureRecipe)
    }

    /// The one-line recipes of early heads, e.g. "patch|blocks=1|preset=hf|size=448".
    static func legacySummary(_ text: String) -> FeatureRecipe? {
        let parts = ByteText.split(text, on: "|", omittingEmpty: true)  // scalars: "|\u{301}" is one Character
        guard let first = parts.first, let tokens = FeatureTokens(rawValue: first) else { return nil }
        var fields: [String: String] = [:]
        for part in parts.dropFirst() {
            let kv = ByteText.split(part, on: "=", omittingEmpty: true, maxSplits: 1)
            if kv.count == 2 { fields[kv[0]] = kv[1] }
        }
        guard let blocks = fields["blocks"].flatMap(Int.init), let size = fields["size"].flatMap(Int.init),
              let preset = fields["preset"].flatMap(PreprocessPreset.init(rawValue:)) else { return nil }
        func triple(_ key: String, _ fallback: [Float]) -> [Float] {
            let v = ByteText.split(fields[key] ?? "", on: ",", omittingEmpty: true).compactMap { Float($0) }
            return v.count == 3 ? v : fallback
        }
        return FeatureRecipe(tokens: tokens, blocks: blocks,
                             preprocessing: Preprocessing(preset: preset, size: size, mean: triple("mean", Preprocessing.imagenetMean),
                                                          std: triple("std", Preprocessing.imagenetStd)))
    }

    /// Throws unless features of `recipe` from a backbone with `fingerprint` are what this head
    /// was trained on.
    public func checkCompatible(recipe: FeatureRecipe, backboneFingerprint fingerprint: String) throws {
        let own = try self.recipe()
        guard own == recipe, fingerprint == backboneFingerprint else {
            throw HeadError.incompatibleFeatures(headRecipe: own.key, headFingerprint: backboneFingerprint,
                                                 givenRecipe: recipe.key, givenFingerprint: fingerprint)
        }
    }

    /// Checks class names and palette against a class count.
    func validate(classes: Int, path: String) throws {
        if !classNames.isEmpty && classNames.count != classes {
            throw HeadError.badMetadata(path: path, key: CodingKeys.classNames.rawValue,
                                        reason: "\(classNames.count) class names for \(classes) classes; give one name per class or none")
        }
        if let palette, palette.count != 3 * classes {
            throw HeadError.badMetadata(path: path, key: CodingKeys.palette.rawValue,
                                        reason: "\(palette.count) values for \(classes) classes; give one RGB triple (3 values) per class")
        }
    }

    /// The strings stored in a safetensors `__metadata__`.
    public var safetensorsMetadata: [String: String] {
        func json<T: Encodable>(_ value: T) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? ""
        }
        var m: [String: String] = [
            "format": Self.format,
            "format_version": Self.formatVersion,
            CodingKeys.kind.rawValue: kind.rawValue,
            CodingKeys.featureRecipe.rawValue: featureRecipe,
            CodingKeys.backboneID.rawValue: backboneID,
            CodingKeys.backboneFingerprint.rawValue: backboneFingerprint,
            CodingKeys.classNames.rawValue: json(classNames),
            CodingKeys.extra.rawValue: json(extra),
        ]
        if let palette { m[CodingKeys.palette.rawValue] = json(palette) }
        if let inputResolution { m[CodingKeys.inputResolution.rawValue] = String(inputResolution) }
        return m
    }

    /// Reads the metadata of a head file; `path` is only used in error messages.
    /// Throws `HeadError.notAHead` when the `format` entry is missing or foreign.
    public init(safetensorsMetadata m: [String: String], path: String) throws {
        guard let format = m["format"] else { throw HeadError.notAHead(path: path, reason: "its metadata has no 'format' entry") }
        guard format == Self.format else { throw HeadError.notAHead(path: path, reason: "its metadata says format '\(format)'") }
        if let version = m["format_version"], version != Self.formatVersion {
            throw HeadError.badMetadata(path: path, key: "format_version",
                                        reason: "version \(version) is not supported by this dinoprobe (reads \(Self.formatVersion)); update dinoprobe")
        }
        guard let kindName = m[CodingKeys.kind.rawValue] else {
            throw HeadError.badMetadata(path: path, key: "kind", reason: "missing; expected 'classifier', 'segmenter' or 'depth'")
        }
        guard let kind = HeadKind(rawValue: kindName) else {
            throw HeadError.badMetadata(path: path, key: "kind", reason: "'\(kindName)' is not 'classifier', 'segmenter' or 'depth'")
        }
        func decodeJSON<T: Decodable>(_ key: CodingKeys, as type: T.Type) throws -> T? {
            guard let text = m[key.rawValue] else { return nil }
            guard let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw HeadError.badMetadata(path: path, key: key.rawValue, reason: "'\(text.prefix(80))' is not valid JSON of the expected type")
            }
            return value
        }
        var resolution: Int?
        if let text = m[CodingKeys.inputResolution.rawValue] {
            guard let value = Int(text), value > 0 else {
                throw HeadError.badMetadata(path: path, key: CodingKeys.inputResolution.rawValue, reason: "'\(text)' is not a positive integer")
            }
            resolution = value
        }
        self.init(kind: kind,
                  featureRecipe: m[CodingKeys.featureRecipe.rawValue] ?? "",
                  backboneID: m[CodingKeys.backboneID.rawValue] ?? "",
                  backboneFingerprint: m[CodingKeys.backboneFingerprint.rawValue] ?? "",
                  classNames: try decodeJSON(.classNames, as: [String].self) ?? [],
                  palette: try decodeJSON(.palette, as: [UInt8].self),
                  inputResolution: resolution,
                  extra: try decodeJSON(.extra, as: [String: String].self) ?? [:])
        // A head is refused on load when its recipe is out of bounds (one that records none
        // loads; commands that need the recipe say so when they ask for it).
        if storedRecipe != nil { _ = try recipe(path: path) }
    }
}
