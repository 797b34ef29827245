import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support

extension FeatureCache {
    /// `views` training views of every image of `dataset` made with `crop` (Meta's training
    /// transform: a random resized crop and a flip), normalised with `preprocessing`'s statistics,
    /// through the blocks `layers`: from the cache, or extracted and stored. View v of image i
    /// draws from the stream (seed, i, v), so the views do not depend on batching or on which
    /// other images are readable. Each row names the training row of `train` (the same images'
    /// own features) it was made from; images `train` lacks are left out.
    public func augmentedViews(of dataset: ClassificationDataset, train: FeatureSplit, model: DINOv3Model, preprocessing: Preprocessing,
                               crop: RandomResizedCrop, views: Int, seed: UInt64, layers: [Int], batchSize: Int,
                               maxPixels: Int = ImageDecoder.defaultMaxPixels, reporter: Reporter = SilentReporter()) throws -> AugmentedViews {
        let paths = dataset.paths
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]  // the key must not depend on dictionary order
        let cropKey = String(decoding: try encoder.encode(crop), as: UTF8.self)
        let key = FeatureStoreKey.make(kind: "tokens-augmented", model: model, preprocessing: preprocessing, layers: layers, files: paths,
                                       extra: ["views=\(views)", "seed=\(seed)", cropKey])
        let extract = { try Self.extractViews(paths: paths, model: model, preprocessing: preprocessing, crop: crop, views: views, seed: seed,
                                              layers: layers, batchSize: batchSize, maxPixels: maxPixels, reporter: reporter) }
        let entry = try folder.map { folder in
            let file = "\(folder)/train-augmented-\(key).safetensors"
            return try CacheEntry.obtain(file, read: {
                let found = try Self.read(SafeTensorsFile(path: file), inputs: paths.count, fingerprint: model.fingerprint,
                                          dim: model.config.hiddenSize, blocks: layers.count, viewsPerInput: views)
                reporter.note("train: \(found.features.count) augmented views from the cache (\(file))")
                return found
            }, make: {
                let made = try extract()
                try Self.write(made, paths: paths, source: Self.source(model, preprocessing), viewsPerInput: views, to: file)
                return made
            }, waiting: { reporter.note("train: waiting for another dinoprobe run (\($0)), which is extracting these augmented views into \(file)") },
               unusable: { reporter.note("train: cache entry \(file) is unusable (\($0)); removed it, extracting again") })
        } ?? extract()
        var rowOfPath: [String: Int] = [:]
        for (row, path) in train.paths.enumerated() { rowOfPath[path] = row }
        let kept = entry.sourceIndex.indices.filter { rowOfPath[paths[entry.sourceIndex[$0]]] != nil }
        return try AugmentedViews(features: entry.features.rows(kept), image: kept.map { rowOfPath[paths[entry.sourceIndex[$0]]] ?? 0 })
    }

    /// Decodes each image once and runs its views through the backbone in batches.
    static func extractViews(paths: [String], model: DINOv3Model, preprocessing: Preprocessing, crop: RandomResizedCrop, views: Int,
                             seed: UInt64, layers: [Int], batchSize: Int, maxPixels: Int, reporter: Reporter) throws -> Entry {
        var features = TokenFeatures(dim: model.config.hiddenSize, blocks: layers.count)
        var sourceIndex: [Int] = [], skipped: [SkippedInput] = []
        var pending: [(index: Int, pixels: [Float])] = []
        let task = reporter.task("augment train (\(views) views per image)", total: paths.count, unit: "images")
        func flush() throws {
            guard !pending.isEmpty else { return }
            let out = try model.forward(pixels: Array(pending.map(\.pixels).joined()), batch: pending.count, height: crop.size,
                                        width: crop.size, layers: layers)
            try features.append(ExtractedBatch(indices: pending.map(\.index), output: out))
            sourceIndex += pending.map(\.index)
            pending.removeAll(keepingCapacity: true)
        }
        for (i, path) in paths.enumerated() {
            defer { task.update(i + 1) }
            let image: RGBImage
            do { image = try ImageDecoder.decode(path: path, maxPixels: maxPixels) } catch {
                skipped.append(SkippedInput(index: i, path: path, reason: "\(error)"))
                continue
            }
            for v in 0..<views {
                var random = SeededRandom(seed: seed, stream: [UInt64(i), UInt64(v)])
                let view = try crop.view(of: image, random: &random)
                pending.append((i, preprocessing.normalise(view.pixels, plane: crop.size * crop.size)))
                if pending.count >= batchSize { try flush() }
            }
        }
        try flush()
        task.finish(paths.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        return Entry(features: features, sourceIndex: sourceIndex, skipped: skipped)
    }
}
