import ArgumentParser
import CommandLineKit
import Support
import Training

struct Propagate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Video object segmentation by label propagation (DINO's DAVIS 2017 protocol): first-frame masks carried through each video by nearest patch neighbours; J&F as davis2017-evaluation.",
        discussion: examples("propagate --data DAVIS --split val", "propagate --data DAVIS --videos bear,blackswan --context 7 --topk 5 --radius 12",
                             "propagate --data DAVIS --split val --shard 0/4", then: """
        --data is a DAVIS 2017 root: JPEGImages/480p/V/*.jpg, Annotations/480p/V/*.png (palette \
        PNGs, object id = palette index), ImageSets/2017/SPLIT.txt. Writes V/NNNNN.png for every \
        frame (the input palette; what the DAVIS evaluation reads), metrics.json, per_video.csv, \
        per_object.csv, report.html and run.json. Videos annotated on every frame are scored on \
        frames 1 to n-2, as davis2017-evaluation does. With --shard I/N (or a scheduler's array), a \
        process caches only its share of the videos' tokens and says which shards remain; the \
        command without a shard then propagates from the cache, as one process would.
        """))

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "DAVIS 2017 root folder.")
    var data: String

    @Option(help: "The list ImageSets/2017/SPLIT.txt to run.")
    var split: String = "val"

    @Option(help: "Only these videos (comma-separated), instead of the split's list.")
    var videos: CommaList<String>?

    @OptionGroup var propagation: PropagationOptions

    @OptionGroup var output: OutputOptions
    @OptionGroup var cache: CacheFolderOptions

    @OptionGroup var pixelLimit: PixelLimitOption

    @OptionGroup var sharding: ShardChoiceOptions

    func run() throws {
        let settings = try propagation.settings
        let (list, skipped) = try DAVISVideos.read(root: data, split: split, only: videos?.values)
        for s in skipped { Console.err("skipped video \(shown(s.path)): \(s.reason)") }
        guard !list.isEmpty else { throw ValidationError("no usable video in \(data) (split \(split))") }
        if let choice = try sharding.resolve() { return try extractShard(choice, videos: list, settings: settings) }
        let run = try output.open(prefix: "propagate", guarding: ["metrics.json", "report.html"], command: self)
        defer { run.close() }
        let model = try modelOptions.load(quiet: true)
        let runner = try PropagationRun(model: model, settings: settings, cacheFolder: cache.folder, maxPixels: pixelLimit.maxPixels,
                                        reporter: TerminalReporter.shared)
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.record(settings: settings)
            $0.data = RunRecord.DataRecord(root: data, splits: [split: .init(paths: list.flatMap(\.frames))])
        }
        let staging = try run.staging()
        let (results, failed) = runner.run(list, into: staging)
        let report = PropagationReport(record: run.record, settings: settings, videos: results, skipped: skipped + failed)
        try run.publish(outputs: try report.write(to: staging) + results.map(\.name))
        report.summaryLines.forEach { say($0) }
        say("wrote \(run.path): \(results.count) video folder\(results.count == 1 ? "" : "s"), metrics.json, per_video.csv, per_object.csv, report.html, run.json")
        if !report.skipped.isEmpty { throw ExitCode(1) }
    }

    /// `--shard I/N`: this process's videos' tokens, into the cache; no run folder.
    func extractShard(_ choice: ShardEnvironment.Choice, videos: [VideoSequence], settings: PropagationSettings) throws {
        let folder = try TaskShardOutcome.cacheFolder(cache.folder)
        let model = try modelOptions.load(quiet: true)
        let runner = try PropagationRun(model: model, settings: settings, cacheFolder: folder, maxPixels: pixelLimit.maxPixels, reporter: TerminalReporter.shared)
        let outcome = try runner.shard(choice.shard, videos: videos, name: split)
        sayShard(choice, outcome.shares, closing: outcome.closing(choice, cacheFolder: folder))
    }
}

/// The options of `PropagationSettings`.
struct PropagationOptions: SettingsOptions {
    typealias Settings = PropagationSettings

    @Option(help: "Previous frames kept besides the first (DINO's n_last_frames).")
    var context = Settings().context

    @Option(help: "Neighbours whose labels are averaged.")
    var topk = Settings().topk

    @Option(help: "Half-side in patches of the neighbourhood searched (DINO's size_mask_neighborhood; 0: the whole frame).")
    var radius = Settings().radius

    @Option(help: "Short side frames are scaled to (the long side rounded down to a multiple of 64).")
    var scaleSize = Settings().scaleSize
}
