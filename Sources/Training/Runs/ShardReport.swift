import Support

/// One input list's share of a `--shard I/N` extraction into the feature cache (the probes',
/// retrieval's, propagate's and correspondence's shards).
public struct ShardShare: Sendable {
    public var name: String, unit: String
    /// The shard's positions in the list, and the list's length.
    public var range: Range<Int>, total: Int
    /// Items extracted now, items already cached, and items that could not be read.
    public var extracted = 0, reused = 0
    public var skipped: [SkippedInput] = []

    public init(name: String, unit: String = "images", range: Range<Int>, total: Int) {
        (self.name, self.unit, self.range, self.total) = (name, unit, range, total)
    }

    /// "shard I/N (from SOURCE) of NAME: UNIT a..<b of n: E extracted, R already cached[, K skipped]".
    public func line(_ choice: ShardEnvironment.Choice) -> String {
        "shard \(choice.shard) (from \(choice.source)) of \(name): \(unit) \(range.lowerBound)..<\(range.upperBound) of \(total): "
            + "\(extracted) extracted, \(reused) already cached\(skipped.isEmpty ? "" : ", \(skipped.count) skipped")"
    }
}

extension PartsOutcome {
    /// This outcome as the share of the list `name` of `total` images.
    public func share(of name: String, total: Int) -> ShardShare {
        var share = ShardShare(name: name, range: range, total: total)
        (share.extracted, share.reused, share.skipped) = (extracted, reused, skipped)
        return share
    }
}

/// What a task's shard did: each list's share, and the shards (0-based) still to run.
public struct TaskShardOutcome: Sendable {
    public var shares: [ShardShare]
    public var remaining: [Int]

    /// The closing line: which shards remain, or that every one is cached.
    public func closing(_ choice: ShardEnvironment.Choice, cacheFolder: String) -> String {
        let n = choice.shard.count
        let then = "the same command without a shard (--shard none in a sharded environment) computes the metrics from them"
        if remaining.isEmpty { return "all \(n) shards' features are cached in \(cacheFolder): \(then)" }
        return "this shard's features are cached in \(cacheFolder); shards still to run: \(remaining.map { "\($0)/\(n)" }.joined(separator: ", ")); once every shard has run, \(then)"
    }

    /// The cache folder a shard writes into; without one (--no-cache), the refusal.
    public static func cacheFolder(_ folder: String?) throws -> String {
        guard let folder else { throw TrainingError.badOption("--shard builds the feature cache in parts: drop --no-cache") }
        return folder
    }
}
