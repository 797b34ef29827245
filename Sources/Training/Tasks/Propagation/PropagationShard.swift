import Images
import Support

/// `propagate --shard I/N`: the shard's videos (`Shard.range` over the video list, one video per
/// group) have their tokens extracted into the feature cache, one entry per video as a run
/// without a shard writes them; that run then propagates every video from the cache.
extension PropagationRun {
    /// Extracts the tokens of `shard`'s videos among `videos` (the list `name`) into the cache, with
    /// progress by frame.
    public func shard(_ shard: Shard, videos: [VideoSequence], name: String) throws -> TaskShardOutcome {
        let cacheFolder = try TaskShardOutcome.cacheFolder(cacheFolder)
        let range = shard.range(items: videos.count, alignment: 1)
        let progress = reporter.task("extract shard \(shard)", total: videos[range].reduce(0) { $0 + $1.frames.count }, unit: "frames")
        var done = 0
        var outcome = ShardShare(name: name, unit: "videos", range: range, total: videos.count)
        for index in range {
            let video = videos[index]
            do {
                let first = try MaskDecoder.decode(path: video.annotations[0], maxPixels: maxPixels)
                let tokens = try videoTokens(video, width: first.width, height: first.height, onExtracted: { done += 1; progress.update(done) })
                if tokens.extractedNow { outcome.extracted += 1 } else { outcome.reused += 1 }
            } catch {
                outcome.skipped.append(SkippedInput(index: index, path: video.name, reason: "\(error)"))
            }
        }
        progress.finish(done)
        let cached = videos.map { FileSystem.exists(entryPath($0, in: cacheFolder)) }
        return TaskShardOutcome(shares: [outcome], remaining: try Shard.unfinished(count: shard.count, done: cached))
    }
}
