import Support

/// `retrieval --shard I/N`: the shard's share of every feature-cache entry a run reads (the
/// queries' crops and the database with its distractors, each chunk at each scale) is extracted
/// into the entries' parts (`FeatureCache.buildShard`, see StoreParts), as the probes'
/// shards do; the run without a shard joins the parts and ranks, extracting nothing again.
extension RetrievalExtraction {
    /// Extracts `shard`'s part of each entry that `vectors(paths, name:)` reads.
    public func extractShard(_ paths: [String], name: String, shard: Shard) throws -> [ShardShare] {
        var done: [ShardShare] = []
        for start in stride(from: 0, to: paths.count, by: chunkSize) {
            let chunk = Array(paths[start..<min(paths.count, start + chunkSize)])
            for entry in entries(chunk, start: start, of: paths.count, name: name) {
                let outcome = try cache.buildShard(of: entry.dataset, shard: shard, model: model, preprocessing: entry.preprocessing,
                                                   layers: model.lastBlocks(1), batchSize: batchSize(entry.preprocessing.size),
                                                   maxPixels: maxPixels, name: entry.name, pooling: settings.tokens.pooling, reporter: reporter)
                done.append(outcome.share(of: entry.name, total: chunk.count))
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
    /// Crops the queries and extracts `shard`'s share of the queries' and the database's features
    /// into the cache. Ranks nothing: the run without a shard does, from the cache.
    public static func shard(_ shard: Shard, root: String, distractors: String?, extraction: RetrievalExtraction) throws -> TaskShardOutcome {
        let cropFolder = Self.cropFolder(in: try TaskShardOutcome.cacheFolder(extraction.cache.folder), root: root)
        let inputs = try Inputs(root: root, distractors: distractors)
        let crops = try QueryCrops.make(inputs.groundTruth, images: inputs.images, gndPath: inputs.gndPath, folder: cropFolder,
                                        maxPixels: extraction.maxPixels)
        let entries = try extraction.extractShard(crops.paths, name: "queries", shard: shard)
            + extraction.extractShard(inputs.paths, name: "database", shard: shard)
        let missing = try extraction.shardsMissing(crops.paths, name: "queries", count: shard.count)
            .union(extraction.shardsMissing(inputs.paths, name: "database", count: shard.count))
        return TaskShardOutcome(shares: entries, remaining: missing.sorted())
    }
}
