import Foundation
import ImagePreprocessing
import Support

/// Where features came from: the backbone (its id and a fingerprint of its weights) and how
/// images were preprocessed. Heads trained on them record it, and refuse other features.
public struct FeatureSource: Sendable, Codable, Equatable {
    public var backboneID: String
    public var backboneFingerprint: String
    public var preprocessing: Preprocessing
    /// The block indices the features hold when they were chosen explicitly (nil: the last blocks).
    public var layers: [Int]?

    public init(backboneID: String, backboneFingerprint: String, preprocessing: Preprocessing, layers: [Int]? = nil) {
        self.backboneID = backboneID
        self.backboneFingerprint = backboneFingerprint
        self.preprocessing = preprocessing
        self.layers = layers
    }
}

/// The features of one split of a data set: per-image tokens with their labels, image paths,
/// class names and provenance, plus the inputs that could not be used. Made by extraction (and
/// its cache) or read from a features file; every probe, k-NN and report starts from it.
public struct FeatureSplit: Sendable {
    public var features: TokenFeatures
    /// Label of each row (an index into `classNames`).
    public var labels: [Int]
    /// Image path of each row.
    public var paths: [String]
    public var classNames: [String]
    public var source: FeatureSource
    /// Inputs that were listed but could not be used, with reasons.
    public var skipped: [SkippedInput]

    public init(features: TokenFeatures, labels: [Int], paths: [String], classNames: [String], source: FeatureSource,
                skipped: [SkippedInput] = []) throws {
        try require(labels.count == features.count && paths.count == features.count, "feature split",
                    "\(features.count) rows, \(labels.count) labels and \(paths.count) paths must agree")
        try require(labels.allSatisfy { $0 >= 0 && $0 < classNames.count }, "labels", "every label must index one of the \(classNames.count) classes")
        self.features = features
        self.labels = labels
        self.paths = paths
        self.classNames = classNames
        self.source = source
        self.skipped = skipped
    }

    public var count: Int { features.count }

    /// The recipe of features made from these tokens.
    public func recipe(_ tokens: FeatureTokens, blocks: Int) -> FeatureRecipe {
        if let layers = source.layers, layers.count == blocks {
            return FeatureRecipe(tokens: tokens, layers: layers, preprocessing: source.preprocessing)
        }
        return FeatureRecipe(tokens: tokens, blocks: blocks, preprocessing: source.preprocessing)
    }

    /// Feature vectors of `tokens` over the last `blocks` blocks, with the labels.
    public func labelled(_ tokens: FeatureTokens, blocks: Int) throws -> LabelledFeatures {
        let v = try features.vectors(tokens, blocks: blocks)
        return LabelledFeatures(values: v.values, labels: labels, width: v.width)
    }

    /// Throws unless `other` (e.g. the val split) comes from the same backbone, preprocessing
    /// and classes, so a head trained on one applies to the other.
    public func checkMatches(_ other: FeatureSplit) throws {
        guard source.backboneFingerprint == other.source.backboneFingerprint else {
            throw HeadError.incompatibleFeatures(headRecipe: "", headFingerprint: source.backboneFingerprint,
                                                 givenRecipe: "", givenFingerprint: other.source.backboneFingerprint)
        }
        guard source.layers == other.source.layers else {
            throw HeadError.invalidArgument(what: "feature splits", detail: "they hold features of different blocks")
        }
        guard source.preprocessing == other.source.preprocessing else {
            throw HeadError.invalidArgument(what: "feature splits", detail: "they were extracted with different preprocessing")
        }
        guard classNames == other.classNames else {
            throw HeadError.invalidArgument(what: "feature splits", detail: "they have different classes (\(classNames.prefix(5)) and \(other.classNames.prefix(5)))")
        }
    }
}
