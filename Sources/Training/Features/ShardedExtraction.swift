import Backbone
import Foundation
import Heads
import SafeTensors
import Support

/// One shard of an extraction split across processes (`extract --shard I/N`, see
/// `ShardedFeatures` for the folder). The shard's part of the listing (whole batches, see
/// `Shard.range`) is extracted in chunks, each written whole as a part of the shard file
/// (`shard-I-of-N.part-START-END.safetensors`, see `StoreParts`), so a killed shard restarts where
/// it stopped; the chunks are then copied into `shard-I-of-N.safetensors`
/// and the shard is marked done in the manifest. A finished shard is never computed again, and a
/// folder begun with another model, recipe or listing is refused.
public enum ShardedExtraction {
    public struct Outcome: Sendable {
        /// The shard's features file.
        public var path: String
        public var rows: Int
        public var skipped: [SkippedInput]
        /// Images an earlier, interrupted run of this shard had finished (0: started afresh).
        public var resumedFrom: Int
        /// An earlier run had finished the shard: nothing was computed.
        public var alreadyDone: Bool
        /// Shards of the folder finished so far, this one included.
        public var finishedShards: Int
    }

    /// Extracts `shard` of `paths` into `folder`. `checkpointEvery`: seconds between chunks (0:
    /// a chunk per batch). `listingProblems` go into shard 0's skipped list, as a single process
    /// lists them first.
    public static func run(folder: String, shard: Shard, model: DINOv3Model, backboneID: String, paths: [String],
                           listingProblems: [SkippedInput] = [], settings: ExtractionSettings, checkpointEvery: Double,
                           reporter: Reporter = SilentReporter()) throws -> Outcome {
        _ = try settings.stageLayouts(model: model)  // stages a model lacks fail before the folder is touched
        let identity = ShardManifest.Identity(
            shards: shard.count, paths: paths, batchSize: settings.batchSize, backboneID: backboneID, backboneFingerprint: model.fingerprint,
            compute: "\(model.precision.rawValue) \(model.device.rawValue)", preprocessing: settings.preprocessing, blocks: settings.blocks,
            patchTokens: settings.patchTokens, dtype: settings.storedType, maxPixels: settings.maxPixels, stages: settings.stages)
        let name = ShardManifest.fileName(of: shard)
        // One process per shard: a second one started by mistake stops here.
        let lock = try FolderLock(folder: folder, name: "." + name + ".lock")
        defer { lock.release() }
        let manifest = try ShardManifest.update(folder: folder, identity: identity)
        let range = identity.range(of: shard), destination = folder + "/" + name
        if FileSystem.exists(destination) {
            let file = try manifest.open(destination, in: folder, as: shard, range: range)
            let done = try ShardManifest.update(folder: folder, identity: identity) { $0.done.append(shard.index) }
            return Outcome(path: destination, rows: file.tensors["cls"]?.shape.first ?? 0, skipped: FeaturesFile.skipped(file.metadata),
                           resumedFrom: range.count, alreadyDone: true, finishedShards: done.done.count)
        }
        // Checkpointed chunks are the store's parts (`StoreParts`), each checked against the manifest.
        let parts = StoreParts(file: destination)
        let valid = try parts.valid(check: { _ = try manifest.open($0, in: folder, as: shard, range: $1) }, unusable: {
            reporter.note("shard \(shard): chunk \($0) is unusable (\($1)); removed it, extracting its images again")
        })
        let resumedFrom = range.count - StoreParts.count(StoreParts.tiling(valid, over: range).gaps)
        let oldChunks = folder + "/" + (ByteText.dropping(suffix: ".safetensors", from: name) ?? name) + ".parts"
        if FileSystem.isDirectory(oldChunks) { reporter.note("shard \(shard): \(oldChunks) holds chunks of an earlier dinoprobe, which are not resumed; remove it") }
        if resumedFrom > 0 {
            reporter.note("shard \(shard): resuming after image \(range.lowerBound + resumedFrom) of \(range.lowerBound)..<\(range.upperBound) (checkpointed chunks kept beside \(destination))")
        }
        let extractor = try settings.extractor(model: model)
        let source = settings.source(model: model, backboneID: backboneID)
        let task = reporter.task("extract shard \(shard)", total: range.count, unit: "images")
        var done = resumedFrom
        let chunks = try parts.fill(range, valid: valid, batchSize: settings.batchSize, checkpointEvery: checkpointEvery) { chunk, path in
            let writer = try settings.writer(path, model: model, inputs: paths.count)
            defer { writer.discard() }
            let base = done
            let skipped = try Extraction.write(Array(paths[chunk]), offset: chunk.lowerBound, extractor: extractor, into: writer,
                                               onProgress: { task.update(base + $0) })
            try writer.finish(source: source, skipped: skipped,
                              extraMetadata: Extraction.metadata(of: model).merging(manifest.stamp(shard, range: chunk)) { $1 })
            done += chunk.count
            return []
        }.parts
        // The shard file: the chunks' rows in order, copied as they are.
        let writer = try settings.writer(destination, model: model, inputs: paths.count)
        defer { writer.discard() }
        var skipped = shard.index == 0 ? listingProblems : []
        for chunk in chunks {
            skipped += try writer.appendRows(of: manifest.open(parts.path(chunk), in: folder, as: shard, range: chunk))
        }
        task.finish(range.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        try writer.finish(source: source, skipped: skipped, extraMetadata: Extraction.metadata(of: model).merging(manifest.stamp(shard, range: range)) { $1 })
        let finished = try ShardManifest.update(folder: folder, identity: identity) { $0.done.append(shard.index) }
        // The chunks, and temporary files that killed runs on other machines left, go (this shard's lock is held).
        parts.removeAll()
        return Outcome(path: destination, rows: writer.count, skipped: skipped, resumedFrom: resumedFrom, alreadyDone: false,
                       finishedShards: finished.done.count)
    }
}
