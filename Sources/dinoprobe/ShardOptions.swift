import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Images
import Support
import Training

/// Which shard of a job this process is: given, or from the scheduler's environment.
struct ShardChoiceOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "This process's shard, I/N (0-based); 'none' ignores the environment.",
        discussion: "Without it, taken from (first found): SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_MIN/MAX/STEP/COUNT (split again by SLURM_PROCID inside a multi-task srun step); SLURM_PROCID/SLURM_NTASKS under srun; JOB_COMPLETION_INDEX with --shards N; RANK/WORLD_SIZE. A count of 1 from the environment means no sharding."))
    var shard: String?

    @Option(help: "The number of shards: needed with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's completions); checked against any other source.")
    var shards: Int?

    func validate() throws {
        try Check.optionalRange(shards, 1...Shard.maxCount, "--shards")
    }

    /// This process's shard, or nil when the run is not sharded.
    func resolve() throws -> ShardEnvironment.Choice? {
        do { return try ShardEnvironment.resolve(explicit: shard, shards: shards, environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Splitting an extraction across processes: which shard this process is (making --out a folder
/// of shards), and how often it checkpoints.
struct ShardOptions: ParsableArguments {
    @OptionGroup var choice: ShardChoiceOptions

    @Option(help: "Seconds between checkpoints of a shard (a rerun of a killed shard continues from the last one; 0: after every batch).")
    var checkpointEvery: Double = 300

    func validate() throws {
        try Check.finite(checkpointEvery, 0...86_400, "--checkpoint-every")
    }

    /// This process's shard, or nil when the run is not sharded.
    func resolve() throws -> ShardEnvironment.Choice? { try choice.resolve() }

    /// Extracts this process's shard into the folder `out` and says what it did.
    func extract(_ choice: ShardEnvironment.Choice, into out: String, model: DINOv3Model, backboneID: String,
                 listing: (images: [String], problems: [SkippedInput]), settings: ExtractionSettings) throws {
        let range = choice.shard.range(items: listing.images.count, alignment: settings.batchSize)
        Console.err("shard \(choice.shard) (from \(choice.source)): images \(range.lowerBound)..<\(range.upperBound) of \(listing.images.count)")
        Interrupts.keep("checkpoint", "chunks of shard \(choice.shard) in \(out) (run the same command again to continue)")
        let outcome = try ShardedExtraction.run(folder: out, shard: choice.shard, model: model, backboneID: backboneID, paths: listing.images,
                                                listingProblems: listing.problems, settings: settings, checkpointEvery: checkpointEvery,
                                                reporter: TerminalReporter.shared)
        for s in outcome.skipped { Console.err("skipped \(s)") }
        ExtractionOutput.shardLines(outcome, shard: choice.shard, out: out, width: model.config.hiddenSize, settings: settings).forEach { say($0) }
    }
}

extension ShardChoiceOptions {
    /// With a shard chosen, extracts this process's part of the cached train and val features
    /// (blocks `storedLayers`) and says what it did; returns false when the run is not sharded. The last
    /// part is joined by the run without a shard (which also extracts any part still missing).
    func extractCacheParts(model modelOptions: ModelOptions, images imageOptions: ImageOptions, cache cacheOptions: CacheOptions,
                           data dataOptions: ClassificationDataOptions,
                           storedLayers: (DINOv3Model, Preprocessing) throws -> [Int]) throws -> Bool {
        guard let choice = try resolve() else { return false }
        let cache = cacheOptions.cache
        let folder = try TaskShardOutcome.cacheFolder(cache.folder)
        let preprocessing = try imageOptions.preprocessing()
        let model = try modelOptions.load()
        let layers = try storedLayers(model, preprocessing)
        let (trainSet, valSet) = try dataOptions.load(reporter: TerminalReporter.shared)
        let batchSize = cacheOptions.batchSize(model, height: preprocessing.size, layers: layers.count)
        let shares = try [trainSet, valSet].map { dataset in
            try cache.buildShard(of: dataset, shard: choice.shard, model: model, preprocessing: preprocessing, layers: layers, batchSize: batchSize,
                                 maxPixels: imageOptions.maxPixels, reporter: TerminalReporter.shared).share(of: dataset.split.rawValue, total: dataset.count)
        }
        sayShard(choice, shares, closing: "this shard's features are cached in \(folder); once every shard has run, the same command without a shard (--shard none in a sharded environment) trains on them")
        return true
    }
}

/// Prints what a shard did: each list's skipped inputs (standard error) and share, then `closing`.
func sayShard(_ choice: ShardEnvironment.Choice, _ shares: [ShardShare], closing: String) {
    for share in shares {
        for s in share.skipped { Console.err("skipped \(s)") }
        say(share.line(choice))
    }
    say(closing)
}
