import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support

/// A cache entry is built in parts (`StoreParts`: a killed extraction continues after its last
/// part, shards write the parts of their ranges). Parts are written and removed only under the
/// entry's claim (`CacheEntry`): shared by shards, held alone to join.
extension FeatureCache {
    /// Extracts the parts of `dataset`'s entry that `shard` covers and are not written yet.
    /// `name` and `pooling` as in `split` (the same entry a run without a shard reads).
    public func buildShard(of dataset: ClassificationDataset, shard: Shard, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                           batchSize: Int, maxPixels: Int = ImageDecoder.defaultMaxPixels, checkpointEvery: Double = 300,
                           name: String? = nil, pooling: PatchPooling = .mean, reporter: Reporter = SilentReporter()) throws -> PartsOutcome {
        guard folder != nil else { throw TrainingError.badOption("a sharded extraction writes into the feature cache: drop --no-cache") }
        let name = name ?? dataset.split.rawValue, paths = dataset.paths
        let file = entryPath(name: name, paths: paths, model: model, preprocessing: preprocessing, layers: layers, pooling: pooling)
        return try StoreParts(file: file).shard(shard.range(items: paths.count, alignment: batchSize), reporter: reporter) {
            try fillParts(file: file, paths: paths, range: $0, model: model, preprocessing: preprocessing, layers: layers, batchSize: batchSize,
                          maxPixels: maxPixels, checkpointEvery: checkpointEvery, pooling: pooling, name: "extract \(name) (shard \(shard))",
                          reporter: reporter)
        }
    }

    /// The file of the entry `split` reads for these inputs (the folder must be set).
    func entryPath(name: String, paths: [String], model: DINOv3Model, preprocessing: Preprocessing, layers: [Int], pooling: PatchPooling) -> String {
        let key = FeatureStoreKey.make(kind: "tokens", model: model, preprocessing: preprocessing, layers: layers, files: paths,
                                       extra: pooling == .mean ? [] : ["patch-pooling=\(pooling.rawValue)"])
        return "\(folder ?? ".")/\(name)-\(key).safetensors"
    }

    /// Which of `count` shards (`Shard.range` with `batchSize`) have their images in the entry or
    /// in its parts by name (parts are checked when read): the shards still to run are the others.
    public func shardsCached(count: Int, of dataset: ClassificationDataset, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                             batchSize: Int, name: String? = nil, pooling: PatchPooling = .mean) throws -> [Bool] {
        let paths = dataset.paths
        let file = entryPath(name: name ?? dataset.split.rawValue, paths: paths, model: model, preprocessing: preprocessing, layers: layers,
                             pooling: pooling)
        let whole = FileSystem.exists(file), parts = StoreParts(file: file).ranges
        return try (0..<count).map { i in
            let range = try Shard(index: i, count: count).range(items: paths.count, alignment: batchSize)
            return whole || StoreParts.tiling(parts, over: range).gaps.isEmpty
        }
    }

    /// Extracts, chunk by chunk, the positions of `range` that no valid part covers yet.
    func fillParts(file: String, paths: [String], range: Range<Int>, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int],
                   batchSize: Int, maxPixels: Int, checkpointEvery: Double, pooling: PatchPooling = .mean, name: String,
                   reporter: Reporter) throws -> PartsOutcome {
        let parts = StoreParts(file: file), (dim, fingerprint) = (model.config.hiddenSize, model.fingerprint)
        let valid = try parts.valid(check: { path, part in
            let stored = try SafeTensorsFile(path: path)
            guard stored.metadata["part"] == Self.partMetadata(part, of: paths.count)["part"] else {
                throw TrainingError.badFeaturesFile(path: path, reason: "its range does not match its name")
            }
            _ = try Self.read(stored, inputs: part.count, fingerprint: fingerprint, dim: dim, blocks: layers.count)
        }, unusable: { part, reason in reporter.note("\(name): part \(part) is unusable (\(reason)); removed it, extracting its images again") })
        let missing = StoreParts.count(StoreParts.tiling(valid, over: range).gaps)
        if missing < range.count { reporter.note("\(name): \(range.count - missing) of \(range.count) images already extracted in parts of \(file)") }
        guard missing > 0 else { return try parts.fill(range, valid: valid, batchSize: batchSize, checkpointEvery: checkpointEvery) { _, _ in [] } }
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize, layers: layers, maxPixels: maxPixels)
        let task = reporter.task(name, total: missing, unit: "images")
        var done = 0
        let outcome = try parts.fill(range, valid: valid, batchSize: batchSize, checkpointEvery: checkpointEvery) { chunk, path in
            // A part's rows and skipped inputs are numbered within the part.
            let base = done
            let entry = try Extraction.tokens(paths: Array(paths[chunk]), extractor: extractor, dim: dim, blocks: layers.count,
                                              pooling: pooling) { task.update(base + $0) }
            try Self.write(entry, paths: Array(paths[chunk]), source: Self.source(model, preprocessing),
                           extraMetadata: Self.partMetadata(chunk, of: paths.count), to: path)
            done += chunk.count
            return entry.skipped
        }
        task.finish(missing, note: outcome.skipped.isEmpty ? "" : "\(outcome.skipped.count) skipped")
        return outcome
    }

    /// The entry joined from `parts` (checked by `fillParts`; their rows copied as they are, the
    /// joined entry read and checked), or nil unless they cover every input. Writes the entry and removes the parts.
    func joinParts(file: String, parts: [Range<Int>], inputs: Int, model: DINOv3Model, preprocessing: Preprocessing, layers: [Int]) throws -> Entry? {
        let store = StoreParts(file: file), (dim, fingerprint) = (model.config.hiddenSize, model.fingerprint)
        guard let used = store.covering(parts, inputs: inputs) else { return nil }
        let writer = try FeaturesFile.Writer(destination: file, dim: dim, layers: layers.count, registers: 0, patchTokens: false, dtype: .f32,
                                             inputs: inputs)
        try store.join(used, into: writer, source: Self.source(model, preprocessing))
        return try Self.read(SafeTensorsFile(path: file), inputs: inputs, fingerprint: fingerprint, dim: dim, blocks: layers.count)
    }

    /// What a cache entry records of where its features came from.
    static func source(_ model: DINOv3Model, _ preprocessing: Preprocessing) -> FeatureSource {
        FeatureSource(backboneID: model.variantName, backboneFingerprint: model.fingerprint, preprocessing: preprocessing)
    }

    static func partMetadata(_ range: Range<Int>, of inputs: Int) -> [String: String] {
        ["part": "\(range.lowerBound)-\(range.upperBound) of \(inputs)"]
    }
}
