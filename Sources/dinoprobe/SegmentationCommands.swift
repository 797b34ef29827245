import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support
import Training

struct TrainSeg: ParsableCommand, DenseTrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-seg",
        abstract: "Linear segmentation: cache patch features, train the DINOv3 linear head (BN + 1x1 conv), report mIoU on val.",
        discussion: examples("train-seg --data seg-shapes --size 224 --out runs/seg"))

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: SegmentationDataOptions
    @OptionGroup var cacheOptions: CacheOptions

    @OptionGroup var training: SegmentationOptions

    @OptionGroup var store: DenseStoreOptions

    @OptionGroup var inferenceOptions: InferenceOptions

    @Option(help: "Tensor names in head.safetensors: dinoprobe (bn.*, conv.*) or meta (batchnorm_layer.*, conv.*, as Meta's LinearHead); both load.")
    var headNaming: LinearSegmenter.TensorNaming = .dinoprobe

    @OptionGroup var pixelLimit: PixelLimitOption

    @OptionGroup var runOptions: TrainingRunOptions

    func run() throws {
        if try extractShardIfAsked() { return }
        let run = try runOptions.open(prefix: "seg", command: self)
        defer { run.close() }
        let train = try loadTrain(folder: run)
        let val = try DenseSplits.optionalVal(reporter: TerminalReporter.shared) { try dataOptions.loadValid(.val, folder: run) }
        say("data: \(train.count) train\(val.map { " / \($0.count) val" } ?? "") pairs, \(train.classCount) classes (\(train.layout.rawValue) layout)")
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model)
        let task = SegmentationTraining(settings: try training.settings(trainImages: train.count), dataset: train, naming: headNaming)
        try run.publishAndSay(outputs: try trainAndFinish(task, "a linear head", evaluation: SegmentationEvaluation(roots: [dataOptions.data]),
                                                          passes: training.iterations == nil ? "\(train.count) images" : nil, run: run, model: model,
                                                          train: train, val: val, recipe: recipe, augment: augmented))
    }
}

extension TrainSeg {
    var augmentation: SegmentationAugmentation { SegmentationAugmentation(size: store.size) }
    var seed: UInt64 { training.seed }
    func loadTrain(folder: RunFolder?) throws -> SegmentationDataset { try dataOptions.loadValid(.train, folder: folder) }
}

struct EvalSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-seg",
        abstract: "mIoU, aAcc, mAcc and per-class IoU (mmsegmentation semantics) of a saved head on a data set, or of any tool's prediction masks.",
        discussion: examples("eval-seg --head runs/seg/head.safetensors --data seg-shapes --out runs/eval-seg", "eval-seg --pred my-masks/ --gt ADEChallengeData2016/annotations/validation --num-classes 150 --reduce-zero-label", then: """
        With --head: runs the head on the data set's val split. With --pred and --gt: compares PNG masks with the same names (class index per pixel); class names from --classes (one per line) or --num-classes.
        """))

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Head saved by train-seg.", completion: .file(extensions: ["safetensors"]))
    var head: String?

    @Option(help: "Data set root (with --head).", completion: .directory)
    var data: String?

    @Option(help: "Data set layout (with --head; auto: found from the folders).")
    var layout: SegmentationLayout = .auto

    @Option(help: "Folder of predicted masks (PNG, class index per pixel).", completion: .directory)
    var pred: String?

    @Option(help: "Folder of ground-truth masks with the same file names.", completion: .directory)
    var gt: String?

    @Option(help: "Class names, one per line (with --pred/--gt).", completion: .file())
    var classes: String?

    @Option(help: "Number of classes when no --classes file is given.")
    var numClasses: Int?

    @Option(help: "Label ignored in the ground truth.")
    var ignoreIndex: Int = 255

    @Flag(help: "Ground truth stores background as 0 (ADE20K): map 0 to ignore and shift the rest down by one.")
    var reduceZeroLabel = false

    @OptionGroup var pixelLimit: PixelLimitOption

    @OptionGroup var inferenceOptions: InferenceOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        try Check.optionalRange(numClasses, 1...255, "--num-classes")
        try Check.range(ignoreIndex, 0...255, "--ignore-index")
        guard (head != nil) != (pred != nil) else { throw ValidationError("give --head with --data, or --pred with --gt") }
        if head != nil, data == nil { throw ValidationError("--head needs --data") }
        if pred != nil, gt == nil { throw ValidationError("--pred needs --gt") }
        if pred != nil, classes == nil, numClasses == nil { throw ValidationError("give --classes FILE or --num-classes N (1...255)") }
    }

    func run() throws {
        for (folder, flag) in [(data, "--data"), (pred, "--pred"), (gt, "--gt")] { if let folder { try Check.folder(folder, flag) } }
        let run = try output.openIfGiven(prefix: "eval-seg", guarding: ["metrics.json"], command: self)
        defer { run?.close() }
        let reporter = TerminalReporter.shared
        let scores: SegmentationScores
        if let head, let data {
            let segmenter = try LinearSegmenter.load(from: head)
            let val = try layout.load(root: data, split: .val).usable(.val, of: data, reporter: reporter) { try reportSkipped($0, split: "val", folder: run) }
            let inference = try inferenceOptions.resolved(for: segmenter)
            let evaluation = try SegmentationEvaluation(roots: [data], predictionsIn: run).evaluateSaved(
                segmenter, on: val, model: { try modelOptions.load() }, modelID: modelOptions.displayID, threads: modelOptions.threadCount,
                inference: inference, run: run, maxPixels: pixelLimit.maxPixels, reporter: reporter) { say("inference: \(inference.name)") }
            try reportSkipped(evaluation.skipped, split: "val", folder: run)
            scores = evaluation.metrics
        } else if let pred, let gt {
            let names = try classes.map(SegmentationFolder.readClassNames(at:)) ?? (0..<(numClasses ?? 0)).map { "class \($0)" }
            try run?.update { $0.data = RunRecord.DataRecord(root: FileSystem.absolute(gt), splits: [:]) }
            let comparison = try MaskComparison.compare(predictions: pred, groundTruth: gt, classNames: names,
                                                        ignoreIndex: UInt8(ignoreIndex), reduceZeroLabel: reduceZeroLabel, reporter: reporter)
            try reportSkipped(comparison.skipped, split: "masks", folder: run)
            scores = comparison.metrics.spelled(below: [pred, gt])
        } else {
            throw ValidationError("give --head with --data, or --pred with --gt")
        }
        say(scores.finish().table())
        guard let run else { return }
        let predictions = FileSystem.isDirectory(try run.staging() + "/pred") ? ["pred/"] : []
        try run.publishAndSay(outputs: try scores.writeScores(to: run.staging()) + predictions)
    }
}
