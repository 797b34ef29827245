import ArgumentParser
import CommandLineKit
import Backbone
import Support
import Training

struct Correspondence: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Semantic keypoint correspondence on SPair-71k (PCK@0.1, 0.05, 0.01 of the target box), nothing trained.",
        discussion: examples("correspondence --data SPair-71k --split test", "correspondence --data SPair-71k --categories cat,dog --limit 50 --soft-argmax 4",
                             "correspondence --data SPair-71k --split test --shard 0/4", then: """
        Reads JPEGImages/<category>/*.jpg and PairAnnotation/<split>/*.json. Each image is padded \
        with white to a square and resized to --size (Probe3D); each source keypoint's feature \
        (bilinear on the last block's patch grid) is matched by cosine to the target's grid \
        upsampled to its pixels. The headline is Probe3D's: per-point PCK@0.1 averaged over \
        categories. Writes metrics.json, pairs.csv, keypoints.csv, categories.csv, report.html \
        and run.json. With --shard I/N (or a scheduler's array), a process caches only its share of \
        the pairs' images and says which shards remain; the command without a shard then matches \
        from the cache, as one process would. See docs/protocols.md.
        """))

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "SPair-71k root (JPEGImages/, PairAnnotation/).")
    var data: String

    @OptionGroup var correspondence: CorrespondenceOptions

    @OptionGroup var cache: CacheFolderOptions

    @OptionGroup var output: OutputOptions
    @OptionGroup var pixelLimit: PixelLimitOption
    @OptionGroup var sharding: ShardChoiceOptions

    func run() throws {
        let settings = try correspondence.settings
        if let choice = try sharding.resolve() { return try extractShard(choice, settings: settings) }
        let run = try output.open(prefix: "correspondence", guarding: ["metrics.json", "pairs.csv", "keypoints.csv", "categories.csv", "report.html"], command: self)
        defer { run.close() }
        let loaded = try SPairData.load(root: data, settings: settings, maxPixels: pixelLimit.maxPixels)
        for skipped in loaded.skipped { Console.err("skipped \(skipped)") }
        say("\(loaded.pairs.count) pairs in \(Set(loaded.pairs.map(\.category)).count) categories (\(loaded.skipped.count) skipped)")
        let model = try modelOptions.load()
        try ForwardMemory.checkOneImageFits(model, height: settings.size, width: settings.size)
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.record(settings: settings)
            $0.data = RunRecord.DataRecord(root: FileSystem.absolute(data), splits: [settings.split: .init(paths: Set(loaded.pairs.flatMap { [$0.sourceImage, $0.targetImage] }).sorted())])
        }
        let store = KeypointGridStore(folder: cache.folder)
        var outcome = try CorrespondenceRun.run(pairs: loaded.pairs, model: model, settings: settings, store: store,
                                                reporter: TerminalReporter.shared, maxPixels: pixelLimit.maxPixels)
        for skipped in outcome.skipped { Console.err("skipped \(skipped)") }
        outcome.skipped = loaded.skipped + outcome.skipped
        let files = try CorrespondenceReport.write(outcome, pairs: loaded.pairs, settings: settings, record: run.record, to: try run.staging(),
                                                   maxPixels: pixelLimit.maxPixels)
        try run.publish(outputs: files)
        outcome.summaryLines(cacheFolder: store.folder).forEach { say($0) }
        say("wrote \(run.path): \(files.joined(separator: ", ")), run.json")
    }

    /// `--shard I/N`: this process's share of the pairs' images, their grids into the cache; no run folder.
    func extractShard(_ choice: ShardEnvironment.Choice, settings: CorrespondenceSettings) throws {
        let folder = try TaskShardOutcome.cacheFolder(cache.folder)
        let loaded = try SPairData.load(root: data, settings: settings, maxPixels: pixelLimit.maxPixels)
        let model = try modelOptions.load()
        try ForwardMemory.checkOneImageFits(model, height: settings.size, width: settings.size)
        let outcome = try CorrespondenceRun.shard(choice.shard, pairs: loaded.pairs, model: model, settings: settings,
                                                  store: KeypointGridStore(folder: folder), reporter: TerminalReporter.shared,
                                                  maxPixels: pixelLimit.maxPixels)
        sayShard(choice, outcome.shares, closing: outcome.closing(choice, cacheFolder: folder))
    }
}

/// The options of `CorrespondenceSettings`.
struct CorrespondenceOptions: SettingsOptions {
    typealias Settings = CorrespondenceSettings
    static let flags = ["softArgmaxWindow": "soft-argmax"]

    @Option(help: "Split: test, val or trn.")
    var split = Settings().split

    @Option(help: "Only these categories (comma-separated).")
    var categories: CommaList<String>?

    @Option(help: "At most N pairs per category (the first in file-name order).")
    var limit: Int?

    @Option(help: "Side of the square model input (a multiple of the patch size; Probe3D: 800).")
    var size = Settings().size

    @Option(name: .customLong("soft-argmax"), help: "Average the coordinates in a (2W+1)^2-pixel window around the best match, weighted by softmax(cosine / 0.02).")
    var softArgmaxWindow: Int?

    @Option(help: "MiB of patch features kept for images that appear in several pairs.")
    var cacheMegabytes = Settings().cacheMegabytes
}
