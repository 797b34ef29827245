import ArgumentParser
import CommandLineKit
import Foundation
import Support
import Training

/// What retrieval, propagate and correspondence say about a shard (`--shard I/N` or the
/// scheduler's), in the probes' words: each share extracted into the feature cache, then the shards
/// still to run, or that the run without a shard can compute the metrics.
enum TaskShardReport {
    /// One line per input list: "shard I/N (from SOURCE) of NAME: UNITS a..<b of n: E extracted, R already cached".
    static func share(_ choice: ShardEnvironment.Choice, of name: String, unit: String, range: Range<Int>, total: Int, extracted: Int,
                      reused: Int, failed: [SkippedInput]) {
        for s in failed { Console.err("skipped \(shown(s.path)): \(s.reason)") }
        say("shard \(choice.shard) (from \(choice.source)) of \(name): \(unit) \(range.lowerBound)..<\(range.upperBound) of \(total): "
            + "\(extracted) extracted, \(reused) already cached\(failed.isEmpty ? "" : ", \(failed.count) skipped")")
    }

    /// The closing line: which shards remain, or that every one is cached.
    static func finish(_ choice: ShardEnvironment.Choice, cacheFolder: String, remaining: [Int]) {
        let n = choice.shard.count
        let then = "the same command without a shard (--shard none in a sharded environment) computes the metrics from them"
        if remaining.isEmpty {
            say("all \(n) shards' features are cached in \(cacheFolder): \(then)")
        } else {
            say("this shard's features are cached in \(cacheFolder); shards still to run: \(remaining.map { "\($0)/\(n)" }.joined(separator: ", ")); once every shard has run, \(then)")
        }
    }

    /// The cache folder a shard writes into, or the probes' refusal of --no-cache.
    static func folder(_ folder: String?) throws -> String {
        guard let folder else { throw ValidationError("--shard builds the feature cache in parts: drop --no-cache") }
        return folder
    }
}
