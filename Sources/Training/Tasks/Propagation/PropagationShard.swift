import Foundation
import Images
import Support

/// `propagate --shard I/N`: the shard's videos (`Shard.range` over the video list, one video per
/// group) have their tokens extracted into the feature cache, one entry per video as a run
/// without a shard writes them; that run then propagates every video from the cache.
extension PropagationRun {
    /// What a shard did.
    public struct ShardOutcome: Sendable {
        /// The shard's positions in the video list.
        public var range: Range<Int>
        /// Videos extracted now, and videos whose entry was already cached.
        public var extracted: Int
        public var reused: Int
        /// Videos that could not be extracted, with the reason.
        public var failed: [SkippedInput]
        /// Shards (0-based) that have a video not cached yet.
        public var remaining: [Int]
    }

    /// Extracts the tokens of `shard`'s videos among `videos` into the cache; `onFrame` hears of
    /// each frame extracted.
    public func shard(_ shard: Shard, videos: [VideoSequence], onFrame: @escaping () -> Void) throws -> ShardOutcome {
        guard let cacheFolder else { throw TrainingError.badOption("--shard builds the feature cache in parts: drop --no-cache") }
        let range = shard.range(items: videos.count, alignment: 1)
        var outcome = ShardOutcome(range: range, extracted: 0, reused: 0, failed: [], remaining: [])
        for index in range {
            let video = videos[index]
            do {
                let first = try MaskDecoder.decode(path: video.annotations[0], maxPixels: maxPixels)
                let tokens = try videoTokens(video, width: first.width, height: first.height, onExtracted: onFrame)
                if tokens.extractedNow { outcome.extracted += 1 } else { outcome.reused += 1 }
            } catch {
                outcome.failed.append(SkippedInput(index: index, path: video.name, reason: "\(error)"))
            }
        }
        let cached = videos.map { FileSystem.exists(entryPath($0, in: cacheFolder)) }
        outcome.remaining = try Shard.unfinished(count: shard.count, done: cached)
        return outcome
    }
}
