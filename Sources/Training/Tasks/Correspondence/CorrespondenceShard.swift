import Backbone
import Images
import Support

/// `correspondence --shard I/N`: the images of the pairs (each once, in the order the pairs first
/// name them) are split by `Shard.range`; a shard extracts its images' grids into the feature
/// cache, one entry per image as a run without a shard writes them; that run then matches every
/// pair from the cache.
extension CorrespondenceRun {
    /// Every image of `pairs`, once, in the order the pairs first name them.
    public static func images(of pairs: [KeypointPair]) -> [String] {
        // Bytes: a Set<String> would take "e\u{301}.jpg" and "\u{e9}.jpg" for one file.
        var seen = Set<[UInt8]>(), list: [String] = []
        for pair in pairs {
            for path in [pair.sourceImage, pair.targetImage] where seen.insert(PathCodec.bytes(of: path)).inserted { list.append(path) }
        }
        return list
    }

    /// Extracts the grids of `shard`'s images of `pairs` into `store`'s folder.
    public static func shard(_ shard: Shard, pairs: [KeypointPair], model: DINOv3Model, settings: CorrespondenceSettings,
                             store: KeypointGridStore, reporter: Reporter, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> TaskShardOutcome {
        let folder = try TaskShardOutcome.cacheFolder(store.folder)
        guard settings.size % model.config.patchSize == 0 else {
            throw TrainingError.badOption("--size \(settings.size) is not a multiple of the patch size \(model.config.patchSize)")
        }
        let images = images(of: pairs), range = shard.range(items: images.count, alignment: 1)
        func cached(_ path: String) -> Bool { FileSystem.exists(KeypointGridStore.entryPath(path, in: folder, model: model, size: settings.size)) }
        var outcome = ShardShare(name: settings.split, range: range, total: images.count)
        let progress = reporter.task("extract shard \(shard)", total: range.count, unit: "images")
        for index in range {
            let path = images[index]
            let wasCached = cached(path)
            do {
                _ = try store.grid(of: path, model: model, size: settings.size, maxPixels: maxPixels, reporter: reporter)
                if wasCached { outcome.reused += 1 } else { outcome.extracted += 1 }
            } catch {
                outcome.skipped.append(SkippedInput(index: index, path: path, reason: "\(error)"))
            }
            progress.update(index - range.lowerBound + 1)
        }
        progress.finish(range.count)
        return TaskShardOutcome(shares: [outcome], remaining: try Shard.unfinished(count: shard.count, done: images.map(cached)))
    }
}
