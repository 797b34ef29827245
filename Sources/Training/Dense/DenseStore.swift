import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support

/// The patch store of any dense data set (segmentation, depth): found in the cache or built into
/// it (in parts by shards, joined by the first run that finds them complete), or built as a
/// temporary file when there is no cache.
public enum DenseStore {
    /// A patch store of `dataset` for `recipe`: from `cacheFolder` when a valid entry is there
    /// (a damaged one is removed and rebuilt), else built into it. With no cache folder the store
    /// is built in `scratchFolder` as a temporary file, removed when the process ends or is
    /// interrupted, so it never stays behind in a run folder. With `augment`, the store holds that
    /// many augmented views per pair instead of the pairs themselves (and their mirrors with `flip`).
    public static func obtain<D: DenseDataset>(model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                               augment: AugmentedDenseViews<D.Target>? = nil, batchSize: Int,
                                               cacheFolder: String?, scratchFolder: String, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                                               reporter: Reporter = SilentReporter()) throws -> PatchFeatureStore {
        let expectation = self.expectation(model: model, dataset: dataset, recipe: recipe, views: augment?.views ?? (flip ? 2 : 1))
        let buildPart = partBuilder(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment, batchSize: batchSize,
                                    maxPixels: maxPixels, reporter: reporter)
        let build = { (path: String) in try buildPart(0..<dataset.count, path, [:]) }
        guard let cacheFolder else {
            let temporary = TemporaryFiles.path(beside: "\(scratchFolder)/patches.safetensors")
            TemporaryFiles.register(temporary)
            let store = try build(temporary)
            store.removeWhenDone = true
            return store
        }
        let path = self.path(cacheFolder, model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment)
        return try CacheEntry.obtain(path, read: {
            let cached = try PatchFeatureStore(path: path, expecting: expectation)
            guard cached.count > 0 else { throw TrainingError.badFeaturesFile(path: path, reason: "it holds no rows, as only a part may") }
            reporter.note("train: \(cached.count) views of patch features from the cache (\(path))")
            return cached
        }, make: {
            // Parts left by shards (--shard): build what is missing, then join them.
            guard !StoreParts(file: path).ranges.isEmpty else { return try build(path) }
            let filled = try fillParts(file: path, range: 0..<dataset.count, of: dataset.count, batchSize: batchSize, checkpointEvery: 300,
                                       expectation: expectation, reporter: reporter, build: buildPart)
            reporter.note("train: \(filled.reused) of \(dataset.count) pairs from the parts of \(path), \(filled.extracted) extracted now")
            let views = augment.map { ["augment": "\($0.views)"] } ?? ["flip": "\(flip)"]
            return try joinParts(file: path, parts: filled.parts, count: dataset.count, views: augment?.views ?? (flip ? 2 : 1),
                                 flip: augment == nil && flip, metadata: views.merging(dataset.targetRule.metadata) { $1 }) ?? build(path)
        }, waiting: { reporter.note("train: waiting for another dinoprobe run (\($0)), which is extracting these patch features into \(path)") },
           unusable: { reporter.note("train: cache entry \(path) is unusable (\($0)); removed it, extracting again") })
    }

    /// Builds the parts of the store that `shard` covers and are not written yet, into `cacheFolder`.
    public static func shard<D: DenseDataset>(model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                              augment: AugmentedDenseViews<D.Target>? = nil, batchSize: Int, cacheFolder: String,
                                              shard: Shard, checkpointEvery: Double = 300, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                                              reporter: Reporter = SilentReporter()) throws -> PartsOutcome {
        let file = path(cacheFolder, model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment)
        let builder = partBuilder(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment, batchSize: batchSize,
                                  maxPixels: maxPixels, reporter: reporter)
        return try StoreParts(file: file).shard(shard.range(items: dataset.count, alignment: batchSize), reporter: reporter) {
            try fillParts(file: file, range: $0, of: dataset.count, batchSize: batchSize, checkpointEvery: checkpointEvery,
                          expectation: expectation(model: model, dataset: dataset, recipe: recipe, views: augment?.views ?? (flip ? 2 : 1)),
                          reporter: reporter, build: builder)
        }
    }

    /// What identifies a patch store: the weights, the recipe (blocks included), the views, every
    /// image and target file (path, size, modification time) and the targets' meaning.
    public static func key<D: DenseDataset>(model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                            augment: AugmentedDenseViews<D.Target>? = nil) -> String {
        FeatureStoreKey.make(kind: "patches", model: model, preprocessing: recipe.preprocessing,
                             layers: recipe.layerIndices(depth: model.config.numHiddenLayers), flip: flip,
                             files: (0..<dataset.count).flatMap { [dataset.imagePath($0), dataset.targetPath($0)] },
                             extra: dataset.targetKey + (augment.map { [$0.key] } ?? []))
    }

    /// The store's file in `cacheFolder`.
    static func path<D: DenseDataset>(_ cacheFolder: String, model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                      augment: AugmentedDenseViews<D.Target>?) -> String {
        "\(cacheFolder)/patches-\(key(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment)).safetensors"
    }

    static func expectation<D: DenseDataset>(model: DINOv3Model, dataset: D, recipe: FeatureRecipe, views: Int) -> PatchFeatureStore.Expectation {
        PatchFeatureStore.Expectation(dim: model.config.hiddenSize * recipe.blocks, resolution: recipe.preprocessing.size, targets: dataset.targetRule,
                                      views: views)
    }

    /// How to build the store of a range of pairs into a file, with metadata besides.
    typealias PartBuilder = (Range<Int>, String, [String: String]) throws -> PatchFeatureStore

    /// Builds the store of the pairs in a range: plain (and mirrored) views, or augmented ones.
    static func partBuilder<D: DenseDataset>(model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                             augment: AugmentedDenseViews<D.Target>?, batchSize: Int, maxPixels: Int,
                                             reporter: Reporter) -> PartBuilder {
        let (layers, metadata) = (recipe.layerIndices(depth: model.config.numHiddenLayers), dataset.targetRule.metadata)
        return { range, path, extra in
            let metadata = metadata.merging(extra) { $1 }
            if let augment {
                return try PatchFeatureStore.buildAugmented(model: model, dataset: dataset, views: augment, preprocessing: recipe.preprocessing,
                                                            layers: layers, batchSize: batchSize, to: path, positions: range,
                                                            maxPixels: maxPixels, metadata: metadata, reporter: reporter)
            }
            return try PatchFeatureStore.build(model: model, images: range.map { dataset.imagePath($0) },
                                               loadTarget: { try dataset.loadTarget(range.lowerBound + $0) },
                                               resolution: recipe.preprocessing.size, layers: layers, flip: flip, batchSize: batchSize,
                                               to: path, maxPixels: maxPixels, metadata: metadata, reporter: reporter)
        }
    }
}
