import ArgumentParser
import CommandLineKit
import Datasets
import Evaluation
import Foundation
import Images
import Support
import Training

extension DepthEvalCrop: ExpressibleByArgument {}

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
        abstract: "Meta's ten depth metrics (a1, a2, a3, abs_rel, rmse, log_10, rmse_log, silog, sq_rel, mae), per image then nan-averaged, of a saved head or of any tool's depth maps.",
        discussion: examples("eval-depth --pred predictions/ --gt nyu/depth/val --depth-scale 1000", "eval-depth --data nyu --head runs/depth/head.safetensors", then: """
        With --head and --data: runs the head (from train-depth) on the data set's val split as train-depth evaluates. \
        With --pred and --gt: compares 16-bit PNG depth maps (depth x --depth-scale) with the same relative \
        path under the two folders; ground truth 0 means no depth. Missing, extra or mismatched pairs are skipped and listed.
        """))

    @Option(help: "Folder of predicted depth maps (16-bit PNG).")
    var pred: String?

    @Option(help: "Folder of ground-truth depth maps with the same relative paths.")
    var gt: String?

    @Option(help: "Head saved by train-depth (with --data).")
    var head: String?

    @Option(help: "Data set root (with --head): its val split (nyu_test.txt, or images/val + depth/val).")
    var data: String?

    @Option(help: "Layout of --data: nyu or folder (default: nyu when ROOT holds nyu_train.txt or nyu_test.txt).")
    var layout: DepthDataset.Layout?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inferenceOptions: InferenceOptions

    @Flag(help: "With --head: no flip test-time augmentation (default: each image's and its mirror's predictions averaged, as Meta).")
    var noTTA = false

    @OptionGroup var range: DepthRangeOptions
    @OptionGroup var pixelLimit: PixelLimitOption

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (head != nil) != (pred != nil) else { throw ValidationError("give --pred with --gt (or --head with --data)") }
        if pred != nil, gt == nil { throw ValidationError("--pred needs --gt") }
        if head != nil, data == nil { throw ValidationError("--head needs --data") }
        if let data, !FileSystem.isDirectory(data) { throw ValidationError("--data \(data) is not a folder") }
    }

    func run() throws {
        let evaluation = try range.evaluation()
        let run = try output.openIfGiven(prefix: "eval-depth", guarding: ["metrics.json", "per_image.csv"], command: self)
        defer { run?.close() }
        let reporter = TerminalReporter.shared
        let (metrics, skipped): (DepthMetrics, [SkippedInput])
        if let head, let data {  // the saved head on --data's val split, as train-depth evaluates it
            let depthHead = try DepthHead.load(from: head)
            let val = try DepthDataset.load(root: data, split: .val, layout: layout, depthScale: range.depthScale)
                .usable(.val, of: data, reporter: reporter) { try reportSkipped($0, split: "val", folder: run) }
            (metrics, skipped) = try DepthHeadEvaluation(scoring: evaluation, flip: !noTTA).evaluateSaved(
                depthHead, on: val, model: { try modelOptions.load() }, modelID: modelOptions.displayID, threads: modelOptions.threadCount,
                inference: inferenceOptions.resolved(for: depthHead), run: run, maxPixels: pixelLimit.maxPixels, reporter: reporter)
        } else if let pred, let gt {  // file by file
            try run?.update {
                $0.data = RunRecord.DataRecord(root: FileSystem.absolute(gt), splits: [:])
                $0.notes["evaluation"] = "\(evaluation.crop.rawValue) crop, depth in (\(evaluation.minDepth), \(evaluation.maxDepth)) m, scale \(range.depthScale) per metre"
            }
            (metrics, skipped) = try DepthComparison.compare(predictions: pred, groundTruth: gt, depthScale: range.depthScale, evaluation: evaluation,
                                                             maxPixels: pixelLimit.maxPixels, reporter: reporter)
        } else {
            throw ValidationError("give --pred with --gt (or --head with --data)")
        }
        try reportSkipped(skipped, split: "depth", folder: run)
        let result = metrics.finish()
        guard result.images > 0 else { throw ValidationError("no pair could be scored (see the skipped list above)") }
        say(result.table())
        guard let run else { return }
        try run.publish(outputs: metrics.writeScores(to: run.staging()))
        say("wrote \(run.path)/metrics.json, per_image.csv, run.json")
    }
}
