import Backbone
import Foundation
import SafeTensors
import Support
import Images

/// Classification features extracted once per (backbone weights, preprocessing, image listing)
/// and reused by later runs. A changed image list, a changed file or other weights give another
/// key, so stale features are never read. Cache files are written whole or not at all.
public struct FeatureCache: Sendable {
    /// The cache folder; nil disables caching (`--no-cache`).
    public let folder: URL?

    /// `$DINOPROBE_CACHE`, else `$XDG_CACHE_HOME/dinoprobe/features`, else `~/.cache/dinoprobe/features`.
    public static func defaultFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let v = environment["DINOPROBE_CACHE"], !v.isEmpty { return URL(fileURLWithPath: v) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.cache"
        return URL(fileURLWithPath: base).appendingPathComponent("dinoprobe/features")
    }

    public init(folder: URL?) { self.folder = folder }

    /// The cache key: weights fingerprint, preprocessing, blocks kept, and every image's path,
    /// size and modification time.
    public static func key(backboneFingerprint: String, preprocessing: Preprocessing, blocks: Int, paths: [String]) -> String {
        var h = FNV1a()
        h.combine("dinoprobe-features-v1")
        h.combine(backboneFingerprint)
        h.combine("\(preprocessing.preset.rawValue) \(preprocessing.size) \(preprocessing.mean) \(preprocessing.std) \(blocks)")
        for path in paths {
            h.combine(path)
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? Int) ?? -1
            let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            h.combine("\(size) \(mtime)")
        }
        return h.hexDigest
    }

    /// Cached features for these inputs, or extracted now (with progress) and stored.
    /// `name` labels the progress line (e.g. "train").
    public func features(model: DINOv3Model, preprocessing: Preprocessing, paths: [String], blocks: Int,
                         batchSize: Int, maxPixels: Int = ImageDecoder.defaultMaxPixels, name: String,
                         log: (String) -> Void = { _ in }) throws -> CachedFeatures {
        let key = Self.key(backboneFingerprint: model.fingerprint, preprocessing: preprocessing, blocks: blocks, paths: paths)
        let file = folder?.appendingPathComponent("\(name)-\(key).safetensors")
        if let file, FileSystem.exists(file.path) {
            do {
                let cached = try Self.read(file.path, expectedCount: paths.count, fingerprint: model.fingerprint,
                                           dim: model.config.hiddenSize, blocks: blocks)
                log("\(name): \(cached.count) feature rows from the cache (\(file.path))")
                return cached
            } catch {
                // A damaged entry is never trusted and never left to fail the next run.
                try? FileSystem.removeFile(file.path)
                log("\(name): cache entry \(file.path) is unusable (\(error)); removed it, extracting again")
            }
        }
        let extractor = try FeatureExtractor(model: model, preprocessing: preprocessing, batchSize: batchSize,
                                             lastLayers: blocks, maxPixels: maxPixels)
        var features = CachedFeatures(dim: model.config.hiddenSize, blocks: blocks, backboneFingerprint: model.fingerprint)
        features.cls.reserveCapacity(paths.count * blocks * features.dim)
        features.meanPatch.reserveCapacity(paths.count * blocks * features.dim)
        let progress = ProgressReporter("extract \(name)", total: paths.count)
        try extractor.run(paths: paths, onBatch: { features.append($0) }, onSkip: { features.skipped.append($0) },
                          onProgress: { progress.update($0) })
        progress.finish(paths.count, note: features.skipped.isEmpty ? "" : "\(features.skipped.count) skipped")
        if let file {
            try Self.write(features, inputCount: paths.count, to: file.path)
        }
        return features
    }

    static func write(_ f: CachedFeatures, inputCount: Int, to path: String) throws {
        let encoder = JSONEncoder()
        let skipped = try encoder.encode(f.skipped.map { [String($0.index), $0.path, $0.reason] })
        var writer = SafeTensorsWriter(metadata: [
            "format": "dinoprobe-feature-cache-v1", "backbone_fingerprint": f.backboneFingerprint,
            "inputs": "\(inputCount)", "skipped": String(decoding: skipped, as: UTF8.self),
        ])
        try writer.add("cls", floats: f.cls, shape: [f.count, f.blocks, f.dim])
        try writer.add("mean_patch", floats: f.meanPatch, shape: [f.count, f.blocks, f.dim])
        try writer.add("source_index", int64s: f.sourceIndex.map(Int64.init), shape: [f.count])
        try writer.write(to: path)
    }

    /// Reads a cache entry, checking every tensor against the others and against what the run
    /// expects: row count plus skipped count equals the inputs, source indices strictly increase
    /// inside the input list and miss exactly the skipped ones, all values are finite.
    static func read(_ path: String, expectedCount: Int, fingerprint: String, dim: Int, blocks: Int) throws -> CachedFeatures {
        try read(SafeTensorsFile(path: path), expectedCount: expectedCount, fingerprint: fingerprint, dim: dim, blocks: blocks)
    }

    /// Reads and checks an open cache entry (see `read(_:expectedCount:fingerprint:dim:blocks:)`).
    public static func read(_ file: SafeTensorsFile, expectedCount: Int, fingerprint: String, dim: Int, blocks: Int) throws -> CachedFeatures {
        let path = file.path
        func fail(_ reason: String) -> TrainingError { .badFeaturesFile(path: path, reason: reason) }
        guard file.metadata["format"] == "dinoprobe-feature-cache-v1", file.metadata["backbone_fingerprint"] == fingerprint,
              file.metadata["inputs"] == "\(expectedCount)" else {
            throw fail("not a cache entry of these inputs and weights")
        }
        guard let shape = file.tensors["cls"]?.shape, shape.count == 3, shape[1] == blocks, shape[2] == dim,
              file.tensors["mean_patch"]?.shape == shape, file.tensors["source_index"]?.shape == [shape[0]] else {
            throw fail("its tensors do not have the shapes [N, \(blocks), \(dim)] and [N]")
        }
        let n = shape[0]
        guard let rows = try? JSONDecoder().decode([[String]].self, from: Data((file.metadata["skipped"] ?? "[]").utf8)) else {
            throw fail("its list of skipped inputs is not valid JSON")
        }
        var skipped: [SkippedInput] = []
        for r in rows {
            guard r.count == 3, let index = Int(r[0]), (0..<expectedCount).contains(index) else { throw fail("a skipped entry is malformed") }
            skipped.append(SkippedInput(index: index, path: r[1], reason: r[2]))
        }
        let sourceIndex = try file.ints("source_index").map { Int($0) }
        let skippedSet = Set(skipped.map(\.index))
        guard n + skipped.count == expectedCount, skippedSet.count == skipped.count,
              zip(sourceIndex, sourceIndex.dropFirst()).allSatisfy({ $0 < $1 }),
              sourceIndex.allSatisfy({ (0..<expectedCount).contains($0) && !skippedSet.contains($0) }) else {
            throw fail("its rows and skipped inputs do not account for the \(expectedCount) inputs exactly once")
        }
        return CachedFeatures(count: n, dim: dim, blocks: blocks, cls: try file.finiteFloats("cls"),
                              meanPatch: try file.finiteFloats("mean_patch"), sourceIndex: sourceIndex,
                              skipped: skipped, backboneFingerprint: fingerprint)
    }
}
