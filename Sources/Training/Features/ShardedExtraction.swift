import Backbone
import Foundation
import Heads
import SafeTensors
import Support

/// One shard of an extraction split across processes (`extract --shard I/N`, see
/// `ShardedFeatures` for the folder). The shard's part of the listing (whole batches, see
/// `Shard.range`) is extracted in chunks, each written whole to `shard-I-of-N.parts/`, so a killed
/// shard restarts where it stopped; the chunks are then copied into `shard-I-of-N.safetensors`
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
        let parts = folder + "/" + name.replacingOccurrences(of: ".safetensors", with: ".parts")
        var chunks = try keptChunks(parts, in: folder, shard: shard, range: range, manifest: manifest)
        let resumedFrom = (chunks.last?.upperBound ?? range.lowerBound) - range.lowerBound
        if resumedFrom > 0 {
            reporter.note("shard \(shard): resuming after image \(range.lowerBound + resumedFrom) of \(range.lowerBound)..<\(range.upperBound) (\(chunks.count) checkpointed chunk\(chunks.count == 1 ? "" : "s") kept in \(parts))")
        }
        let extractor = try settings.extractor(model: model)
        let source = settings.source(model: model, backboneID: backboneID)
        let task = reporter.task("extract shard \(shard)", total: range.count, unit: "images")
        try TimedChunks.forEach(in: (range.lowerBound + resumedFrom)..<range.upperBound, batchSize: settings.batchSize,
                                seconds: checkpointEvery) { chunk in
            let writer = try settings.writer(parts + "/" + chunkName(chunk), model: model)
            defer { writer.discard() }
            let base = chunk.lowerBound - range.lowerBound
            let skipped = try Extraction.write(Array(paths[chunk]), extractor: extractor, into: writer, onProgress: { task.update(base + $0) })
            try writer.finish(source: source, skipped: skipped,
                              extraMetadata: Extraction.metadata(of: model).merging(manifest.stamp(shard, range: chunk)) { $1 })
            chunks.append(chunk)
        }
        // The shard file: the chunks' rows in order, copied as they are.
        let writer = try settings.writer(destination, model: model)
        defer { writer.discard() }
        var skipped = shard.index == 0 ? listingProblems : []
        for chunk in chunks {
            skipped += try writer.appendRows(of: manifest.open(parts + "/" + chunkName(chunk), in: folder, as: shard, range: chunk))
        }
        task.finish(range.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        try writer.finish(source: source, skipped: skipped, extraMetadata: Extraction.metadata(of: model).merging(manifest.stamp(shard, range: range)) { $1 })
        let done = try ShardManifest.update(folder: folder, identity: identity) { $0.done.append(shard.index) }
        // The chunks, and temporary files that killed runs on other machines left, go (this shard's lock is held).
        for entry in (try? FileSystem.list(parts)) ?? [] { try? FileSystem.removeFile(parts + "/" + entry) }
        _ = FileSystem.removeEmptyDirectory(parts)
        return Outcome(path: destination, rows: writer.count, skipped: skipped, resumedFrom: resumedFrom, alreadyDone: false,
                       finishedShards: done.done.count)
    }

    /// A chunk's file name: its first and end positions in the listing.
    static func chunkName(_ range: Range<Int>) -> String {
        String(format: "%010ld-%010ld.safetensors", range.lowerBound, range.upperBound)
    }

    /// The ranges of the checkpointed chunks that continue each other from the shard's start
    /// (each checked); other chunk files are removed.
    static func keptChunks(_ parts: String, in folder: String, shard: Shard, range: Range<Int>, manifest: ShardManifest) throws -> [Range<Int>] {
        guard FileSystem.isDirectory(parts) else { return [] }
        do { _ = try FileSystem.confined(parts, to: folder) } catch { throw TrainingError.badFeaturesFile(path: parts, reason: "\(error)") }
        var found: [Range<Int>] = []
        for name in try FileSystem.list(parts) where !name.hasPrefix(".") {
            let fields = name.replacingOccurrences(of: ".safetensors", with: "").split(separator: "-")
            guard fields.count == 2, let first = Int(fields[0]), let end = Int(fields[1]), first < end,
                  chunkName(first..<end) == name, range.contains(first), end <= range.upperBound else { continue }
            found.append(first..<end)
        }
        var kept: [Range<Int>] = []
        for chunk in found.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if chunk.lowerBound == (kept.last?.upperBound ?? range.lowerBound) {
                _ = try manifest.open(parts + "/" + chunkName(chunk), in: folder, as: shard, range: chunk)
                kept.append(chunk)
            } else {
                try? FileSystem.removeFile(parts + "/" + chunkName(chunk))
            }
        }
        return kept
    }
}
