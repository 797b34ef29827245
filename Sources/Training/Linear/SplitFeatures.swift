import Backbone
import Foundation

/// Cached features of one data-set split with the labels of the rows that were read.
public struct SplitFeatures: Sendable {
    public var features: CachedFeatures
    /// Label of each stored row.
    public var labels: [Int]
    /// Image path of each stored row.
    public var paths: [String]

    public init(features: CachedFeatures, labels: [Int], paths: [String]) {
        self.features = features
        self.labels = labels
        self.paths = paths
    }

    /// Extracts (or reads from the cache) the CLS and mean-patch tokens of the last `blocks`
    /// blocks for every image of `dataset`; unreadable images are skipped and listed.
    public static func extract(model: DINOv3Model, dataset: ClassificationDataset, preprocessing: Preprocessing,
                               blocks: Int, cache: FeatureCache, batchSize: Int, maxPixels: Int,
                               log: (String) -> Void) throws -> SplitFeatures {
        let paths = dataset.paths
        let features = try cache.features(model: model, preprocessing: preprocessing, paths: paths, blocks: blocks,
                                          batchSize: batchSize, maxPixels: maxPixels, name: dataset.split.rawValue, log: log)
        let labels = dataset.labels
        return SplitFeatures(features: features, labels: features.sourceIndex.map { labels[$0] },
                             paths: features.sourceIndex.map { paths[$0] })
    }

    /// Feature vectors of `tokens` over the last `blocks` blocks, with the labels.
    public func labelled(_ tokens: FeatureTokens, blocks: Int) throws -> LabelledFeatures {
        let v = try features.vectors(tokens, blocks: blocks)
        return LabelledFeatures(values: v.values, labels: labels, width: v.width)
    }
}
