import ArgumentParser
import CommandLineKit
import Backbone
import Foundation
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
    @Option(help: "Feature cache folder (default: $DINOPROBE_CACHE or ~/.cache/dinoprobe/features); each video's tokens are kept there.")
    var cacheDir: String?

    @Flag(help: "Extract features as they are needed and do not store them.")
    var noCache = false

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
        guard 64 % model.config.patchSize == 0 else { throw ValidationError("the protocol needs a patch size dividing 64, this model's is \(model.config.patchSize)") }
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.record(settings: settings)
            $0.data = RunRecord.DataRecord(root: data, splits: [split: .init(paths: list.flatMap(\.frames))])
        }
        let staging = try run.staging()
        let progress = TerminalReporter.shared.task("propagate", total: list.reduce(0) { $0 + $1.frames.count }, unit: "frames")
        var done = 0, results: [PropagatedVideo] = [], failed = skipped
        let cache = noCache ? nil : cacheDir.map(FileSystem.absolute) ?? CacheFolders.features()
        let runner = PropagationRun(model: model, settings: settings, cacheFolder: cache, maxPixels: pixelLimit.maxPixels,
                                    reporter: TerminalReporter.shared)
        for (index, video) in list.enumerated() {
            do {
                results.append(try runner.run(video, into: staging) { done += 1; progress.update(done, note: video.name) })
            } catch {
                Console.err("skipped video \(shown(video.name)): \(error)")
                failed.append(SkippedInput(index: index, path: video.name, reason: "\(error)"))
            }
        }
        progress.finish(done)
        let report = PropagationReport(record: run.record, settings: settings, videos: results, skipped: failed)
        let files = try report.write(to: staging)
        try run.publish(outputs: files + results.map(\.name))
        if let summary = report.summary { say(summary.table(maxNameWidth: 0)) }
        for v in results { say("\(v.name): \(v.frames) frames, \(v.scores.count) objects scored\(PropagationReport.means(v).map { String(format: ", J&F-Mean %.3f", $0.jf) } ?? "")") }
        say("wrote \(run.path): \(results.count) video folder\(results.count == 1 ? "" : "s"), metrics.json, per_video.csv, per_object.csv, report.html, run.json")
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// `--shard I/N`: this process's videos' tokens, into the cache; no run folder.
    func extractShard(_ choice: ShardEnvironment.Choice, videos: [VideoSequence], settings: PropagationSettings) throws {
        let folder = try TaskShardReport.folder(noCache ? nil : cacheDir.map(FileSystem.absolute) ?? CacheFolders.features())
        let model = try modelOptions.load(quiet: true)
        guard 64 % model.config.patchSize == 0 else { throw ValidationError("the protocol needs a patch size dividing 64, this model's is \(model.config.patchSize)") }
        let range = choice.shard.range(items: videos.count, alignment: 1)
        let progress = TerminalReporter.shared.task("extract shard \(choice.shard)", total: videos[range].reduce(0) { $0 + $1.frames.count }, unit: "frames")
        var done = 0
        let runner = PropagationRun(model: model, settings: settings, cacheFolder: folder, maxPixels: pixelLimit.maxPixels, reporter: TerminalReporter.shared)
        let outcome = try runner.shard(choice.shard, videos: videos) { done += 1; progress.update(done) }
        progress.finish(done)
        TaskShardReport.share(choice, of: split, unit: "videos", range: outcome.range, total: videos.count, extracted: outcome.extracted,
                              reused: outcome.reused, failed: outcome.failed)
        TaskShardReport.finish(choice, cacheFolder: folder, remaining: outcome.remaining)
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
