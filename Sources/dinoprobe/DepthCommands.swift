import ArgumentParser
import Datasets
import Evaluation
import Foundation
import Images
import Support
import Training

extension DepthEvalCrop: ExpressibleByArgument {}
extension DepthDataset.Layout: ExpressibleByArgument {}

/// Where depth is scored and in which range (`eval-depth`, and the depth training commands).
struct DepthRangeOptions: ParsableArguments {
    @Option(help: "Region scored: nyu-eigen (Eigen's NYU crop, Meta's default for NYU), garg (KITTI's Eigen split), full.")
    var evalCrop: DepthEvalCrop = .nyuEigen

    @Option(help: "Ground truth at or below this depth (metres) is ignored; predictions are clamped to it.")
    var minDepth: Float = 0.001

    @Option(help: "Ground truth at or above this depth (metres) is ignored; predictions are clamped to it (KITTI: 80).")
    var maxDepth: Float = 10

    @Option(help: "Stored 16-bit value per metre in depth PNGs: 1000 (millimetres, NYU) or 256 (KITTI).")
    var depthScale: Float = 1000

    func validate() throws {
        try Check.finite(depthScale, Float.leastNormalMagnitude...65535, "--depth-scale")
        try Check.finite(minDepth, 0...1_000_000, "--min-depth")
        try Check.finite(maxDepth, 0...1_000_000, "--max-depth")
        guard minDepth < maxDepth else { throw ValidationError("--min-depth (\(minDepth)) must be below --max-depth (\(maxDepth))") }
    }

    func evaluation() throws -> DepthEvaluation { try DepthEvaluation(crop: evalCrop, minDepth: minDepth, maxDepth: maxDepth) }
}

struct EvalDepth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-depth",
        abstract: "Meta's ten depth metrics (a1, a2, a3, abs_rel, rmse, log_10, rmse_log, silog, sq_rel, mae), per image then nan-averaged, of any tool's depth maps.",
        discussion: """
        With --pred and --gt: compares 16-bit PNG depth maps (depth x --depth-scale) with the same relative \
        path under the two folders; ground truth 0 means no depth. Missing, extra or mismatched pairs are skipped and listed.
        """)

    @Option(help: "Folder of predicted depth maps (16-bit PNG).")
    var pred: String?

    @Option(help: "Folder of ground-truth depth maps with the same relative paths.")
    var gt: String?

    @Option(help: "Head saved by train-depth (with --data).")
    var head: String?

    @Option(help: "Data set root (with --head).")
    var data: String?

    @OptionGroup var range: DepthRangeOptions
    @OptionGroup var pixelLimit: PixelLimitOption

    @Option(help: "Folder for metrics.json, per_image.csv and run.json.")
    var out: String?

    func validate() throws {
        guard (head != nil) != (pred != nil) else { throw ValidationError("give --pred with --gt (or --head with --data)") }
        if pred != nil, gt == nil { throw ValidationError("--pred needs --gt") }
        if head != nil, data == nil { throw ValidationError("--head needs --data") }
    }

    func run() throws {
        let evaluation = try range.evaluation()
        let run = try out.map { try RunFolder.open($0, prefix: "eval-depth", overwrite: true, guarding: nil, command: self) }
        defer { run?.close() }
        let (metrics, skipped) = head != nil ? try evaluateHead(evaluation, run: run) : try comparePredictions(evaluation, run: run)
        try reportSkipped(skipped, split: "depth", folder: run?.url)
        let result = metrics.finish()
        guard result.images > 0 else { throw ValidationError("no pair could be scored (see the skipped list above)") }
        say(result.table())
        guard let run else { return }
        let staging = try run.staging()
        try result.writeJSON(to: staging + "/metrics.json")
        try AtomicFile.write(Data(metrics.perImageCSV().utf8), to: staging + "/per_image.csv")
        try run.publish(outputs: ["metrics.json", "per_image.csv"])
        say("wrote \(run.path)/metrics.json, per_image.csv, run.json")
    }

    /// The saved head's predictions on --data's val split (the run step of issue 29 adds it).
    func evaluateHead(_ evaluation: DepthEvaluation, run: RunFolder?) throws -> (DepthMetrics, [SkippedInput]) {
        throw ValidationError("eval-depth --head is not available yet: score depth maps with --pred DIR --gt DIR")
    }

    /// --pred against --gt, file by file.
    func comparePredictions(_ evaluation: DepthEvaluation, run: RunFolder?) throws -> (DepthMetrics, [SkippedInput]) {
        guard let pred, let gt else { throw ValidationError("give --pred with --gt") }
        try run?.update {
            $0.data = RunRecord.DataRecord(root: FileSystem.absolute(gt), splits: [:])
            $0.notes["evaluation"] = "\(evaluation.crop.rawValue) crop, depth in (\(evaluation.minDepth), \(evaluation.maxDepth)) m, scale \(range.depthScale) per metre"
        }
        let comparison = try DepthComparison.compare(predictions: pred, groundTruth: gt, depthScale: range.depthScale, evaluation: evaluation,
                                                     maxPixels: pixelLimit.maxPixels, reporter: TerminalReporter.shared)
        return (comparison.metrics, comparison.skipped)
    }
}
