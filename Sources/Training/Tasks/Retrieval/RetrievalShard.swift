import Datasets
import Foundation
import Heads
import Support

/// `retrieval --shard I/N`: the shard's share of every feature-cache entry a run reads (the
/// queries' crops and the database with its distractors, each chunk at each scale) is extracted
/// into the entries' parts (`FeatureCache.buildShard`, see StoreParts), as the probes'
/// shards do; the run without a shard joins the parts and ranks, extracting nothing again.
extension RetrievalExtraction {
    /// What a shard did to one cache entry.
    public struct ShardEntry: Sendable {
        public var name: String
        public var images: Int
        public var outcome: PartsOutcome
    }

    /// Extracts `shard`'s part of each entry that `vectors(paths, name:)` reads.
    public func extractShard(_ paths: [String], name: String, shard: Shard) throws -> [ShardEntry] {
        var done: [ShardEntry] = []
        for start in stride(from: 0, to: paths.count, by: chunkSize) {
            let chunk = Array(paths[start..<min(paths.count, start + chunkSize)])
            for entry in entries(chunk, start: start, of: paths.count, name: name) {
                let outcome = try cache.buildShard(of: entry.dataset, shard: shard, model: model, preprocessing: entry.preprocessing,
                                                   layers: model.lastBlocks(1), batchSize: batchSize(entry.preprocessing.size),
                                                   maxPixels: maxPixels, name: entry.name, pooling: settings.tokens.pooling, reporter: reporter)
                done.append(ShardEntry(name: entry.name, images: chunk.count, outcome: outcome))
            }
        }
        return done
    }

    /// The shards among `count` whose part of some entry of `paths` is not cached yet.
    func shardsMissing(_ paths: [String], name: String, count: Int) throws -> Set<Int> {
        var missing: Set<Int> = []
        for start in stride(from: 0, to: paths.count, by: chunkSize) {
            let chunk = Array(paths[start..<min(paths.count, start + chunkSize)])
            for entry in entries(chunk, start: start, of: paths.count, name: name) {
                let cached = try cache.shardsCached(count: count, of: entry.dataset, model: model, preprocessing: entry.preprocessing,
                                                    layers: model.lastBlocks(1), batchSize: batchSize(entry.preprocessing.size),
                                                    name: entry.name, pooling: settings.tokens.pooling)
                missing.formUnion(cached.indices.filter { !cached[$0] })
            }
        }
        return missing
    }
}

extension RetrievalRun {
    /// What `retrieval --shard I/N` did: each entry's share, and the shards (0-based) still to run.
    public struct ShardOutcome: Sendable {
        public var entries: [RetrievalExtraction.ShardEntry]
        public var remaining: [Int]
    }

    /// Crops the queries and extracts `shard`'s share of the queries' and the database's features
    /// into the cache. Ranks nothing: the run without a shard does, from the cache.
    public static func shard(_ shard: Shard, root: String, distractors: String?, extraction: RetrievalExtraction,
                             cropFolder: String) throws -> ShardOutcome {
        guard extraction.cache.folder != nil else { throw TrainingError.badOption("--shard builds the feature cache in parts: drop --no-cache") }
        let inputs = try Inputs(root: root, distractors: distractors)
        let crops = try QueryCrops.make(inputs.groundTruth, images: inputs.images, gndPath: inputs.gndPath, folder: cropFolder,
                                        maxPixels: extraction.maxPixels)
        let entries = try extraction.extractShard(crops.paths, name: "queries", shard: shard)
            + extraction.extractShard(inputs.paths, name: "database", shard: shard)
        let missing = try extraction.shardsMissing(crops.paths, name: "queries", count: shard.count)
            .union(extraction.shardsMissing(inputs.paths, name: "database", count: shard.count))
        return ShardOutcome(entries: entries, remaining: missing.sorted())
    }
}
