import ArgumentParser
import CommandLineKit
import Backbone
import Support
import Training

extension RetrievalTokens: ExpressibleByArgument {}

struct Retrieval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieval",
        abstract: "Instance retrieval on revisited Oxford/Paris (revisitop's layout and protocol): mAP and mP@1,5,10 for Easy, Medium and Hard.",
        discussion: examples("retrieval --data roxford5k --preset hf --size 224", "retrieval --data roxford5k --distractors revisitop1m/jpg --scales 1,0.707,0.5",
                             "retrieval --data roxford5k --distractors revisitop1m/jpg --shard 0/8", then: """
        ROOT holds jpg/*.jpg and one gnd_<name>.pkl. Queries are cropped to their boxes; database \
        images and crops become L2-normalised last-block features (--tokens, averaged over --scales), \
        ranked by cosine similarity in blocks of the database (--ranking-memory). Writes metrics.json, \
        ranks.csv (top --top-k per query), queries.csv (AP and P@k per query), report.html and run.json. \
        With --shard I/N (or a scheduler's array), a process extracts only its share of the queries' \
        and database's features into the feature cache and says which shards remain; the command \
        without a shard then ranks from the cache, as one process would.
        """))

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "revisitop data set root (jpg/ and gnd_<name>.pkl).")
    var data: String

    @Option(help: "Folder of distractor images added to the database (e.g. revisitop's R1M).")
    var distractors: String?

    @OptionGroup var retrieval: RetrievalOptions

    @OptionGroup var output: OutputOptions
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var cacheOptions: CacheOptions

    @OptionGroup var sharding: ShardChoiceOptions

    func run() throws {
        let settings = try retrieval.settings
        if let choice = try sharding.resolve() { return try extractShard(choice, settings: settings) }
        let run = try output.open(prefix: "retrieval", guarding: ["metrics.json", "ranks.csv", "report.html"], command: self)
        defer { run.close() }
        let model = try modelOptions.load()
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.record(settings: settings)
        }
        let extraction = try self.extraction(model: model, settings: settings)
        let root = FileSystem.absolute(data)
        let scratch = try run.staging()
        let result = try RetrievalRun.run(root: root, distractors: distractors, extraction: extraction, scratch: scratch)
        try run.update {
            $0.data = RunRecord.DataRecord(root: root, splits: ["database": .init(paths: result.databasePaths),
                                                                "queries": .init(paths: result.cropPaths)])
        }
        try reportSkipped(result.skippedQueries, split: "queries", folder: run)
        try reportSkipped(result.skippedDatabase, split: "database", folder: run)
        RetrievalReport.metrics(result).summaryLines.forEach { say($0) }
        let files = try RetrievalReport.write(result, to: scratch, topK: settings.topK)
        try run.publish(outputs: files)
        say("wrote \(run.path)/\(files.joined(separator: ", ")), run.json")
    }

    func extraction(model: DINOv3Model, settings: RetrievalSettings) throws -> RetrievalExtraction {
        RetrievalExtraction(cache: cacheOptions.cache, model: model, backboneID: modelOptions.displayID, settings: settings,
                            preprocessing: try imageOptions.preprocessing(), batchSize: { cacheOptions.batchSize(model, height: $0) },
                            maxPixels: imageOptions.maxPixels, reporter: TerminalReporter.shared)
    }

    /// `--shard I/N`: this process's share of the queries' and database's features, into the cache; no run folder.
    func extractShard(_ choice: ShardEnvironment.Choice, settings: RetrievalSettings) throws {
        let folder = try TaskShardOutcome.cacheFolder(cacheOptions.folder)
        let model = try modelOptions.load()
        let root = FileSystem.absolute(data)
        let outcome = try RetrievalRun.shard(choice.shard, root: root, distractors: distractors, extraction: extraction(model: model, settings: settings))
        sayShard(choice, outcome.shares, closing: outcome.closing(choice, cacheFolder: folder))
    }
}

/// The options of `RetrievalSettings`.
struct RetrievalOptions: SettingsOptions {
    typealias Settings = RetrievalSettings

    @Option(help: "Feature of the last block: cls (DINO's retrieval feature), cls+avgpool (CLS and mean patch token) or gem (GeM, p = 3, of the patch tokens).")
    var tokens = Settings().tokens

    @Option(help: "Input scales averaged, as fractions of --size (DINO's multi-scale: 1,0.707,0.5).")
    var scales = CommaList(Settings().scales)

    @Option(help: "Results kept per query in ranks.csv.")
    var topK = Settings().topK

    @Option(help: "MiB for the ranking's database block and its scores (the database is streamed from disk).")
    var rankingMemory = Settings().rankingMemory
}
