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

struct TrainSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-seg",
        abstract: "Linear segmentation: cache patch features, train the DINOv3 linear head (BN + 1x1 conv), report mIoU on val.",
        discussion: examples("train-seg --data seg-shapes --size 224 --out runs/seg"))

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: SegmentationDataOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(help: "Input size S in pixels (square, a multiple of 16): 448 for dense work, 224 gives a 14x14 grid.")
    var size: Int?

    @Option(help: "Optimizer steps. Default: as many passes over the training images as Meta's 40,000 steps of 16 make over ADE20K (about 32), between 100 and 40,000.")
    var iters: Int?

    @Option(help: "Training batch size.")
    var batchSize: Int = 16

    @Option(help: "AdamW learning rate.")
    var lr: Float = 1e-3

    @Option(help: "AdamW weight decay.")
    var weightDecay: Float = 1e-3

    @Option(help: "Warm-up steps (default: 1500/40000 of --iters).")
    var warmup: Int?

    @Flag(help: "Also cache a mirrored view of every training image (doubles the views).")
    var flip = false

    @OptionGroup var sharding: ShardChoiceOptions

    @Option(help: "Cache N augmented views per training pair instead (Meta's augmentation: short side --size x U(0.5, 2), --size crop with at most 75% of one class, flip, photometric distortion, padding).")
    var augment: Int = 0

    @Option(parsing: .upToNextOption, help: "Blocks whose normed patch tokens are concatenated before the head, 0-based (Meta: 2,5,8,11 for ViT-S/B, 4,11,17,23 for L); default the last block.")
    var layers: [CommaList<Int>] = []

    @OptionGroup var inferenceOptions: InferenceOptions

    @Option(help: "Tensor names in head.safetensors: dinoprobe (bn.*, conv.*) or meta (batchnorm_layer.*, conv.*, as Meta's LinearHead); both load.")
    var headNaming: LinearSegmenter.TensorNaming = .dinoprobe

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @OptionGroup var pixelLimit: PixelLimitOption

    @OptionGroup var runOptions: TrainingRunOptions

    func validate() throws {
        try Check.multiple(size ?? 448, of: 16, 16...4096, "--size")
        try Check.optionalRange(iters, SegmentationSettings.Ranges.iterations, "--iters")
        try Check.range(batchSize, SegmentationSettings.Ranges.batchSize, "--batch-size")
        try Check.finite(lr, SegmentationSettings.Ranges.learningRate, "--lr")
        try Check.finite(weightDecay, SegmentationSettings.Ranges.weightDecay, "--weight-decay")
        try Check.optionalRange(warmup, 0...(iters ?? 100_000_000), "--warmup")
        try Check.range(augment, SegmentationSettings.Ranges.augmentedViews, "--augment")
        if augment > 0 && flip { throw ValidationError("--augment already flips half of its views: drop --flip") }
        let chosen = layers.flattened()
        for layer in chosen { try Check.range(layer, 0...1023, "--layers") }
        if zip(chosen, chosen.dropFirst()).contains(where: { $0 >= $1 }) { throw ValidationError("--layers: give block indices in increasing order") }
    }

    func run() throws {
        let size = self.size ?? 448
        if try extractShardIfAsked(size: size) { return }
        let run = try runOptions.open(prefix: "seg", command: self, resolved: ["size": size])
        defer { run.close() }
        let reporter = TerminalReporter.shared
        let train = try dataOptions.loadValid(.train, folder: run, reporter: reporter)
        // A data set without a val split trains without evaluation; any other problem with the
        // val split (unreadable folder, bad class list) is an error, not "no val split".
        let val: SegmentationDataset?
        do { val = try dataOptions.loadValid(.val, folder: run, reporter: reporter) } catch let DatasetError.missingSplit(_, path, _) {
            Console.err("no val split (\(shown(path)) does not exist): the head is trained but not evaluated")
            val = nil
        }
        say("data: \(train.count) train\(val.map { " / \($0.count) val" } ?? "") pairs, \(train.classCount) classes (\(train.layout.rawValue) layout)")
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model, size: size)
        let settings = self.settings(trainImages: train.count)
        let extractionBatch = cacheOptions.batchSize(model, height: size, layers: recipe.blocks)
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.data = RunRecord.DataRecord(root: train.root, splits: [train, val].compactMap { $0 }.reduce(into: [:]) {
                $0[$1.split.rawValue] = RunRecord.Listing(paths: $1.samples.flatMap { [$0.image, $0.mask] })
            })
            $0.seeds = ["seed": seed]
            $0.options = OptionRecord.values(of: self, resolved: ["size": size, "iters": settings.iterations, "warmup": settings.warmupSteps, "extract-batch-size": extractionBatch,
                                                                  "layers": recipe.layerIndices(depth: model.config.numHiddenLayers)])
        }
        let (store, storeKey) = try denseTrainingStore(run: run, model: model, dataset: train, recipe: recipe, flip: flip, augment: augmented,
            augmentation: "short side \(size) x U(0.5, 2), \(size) crop, cat_max_ratio 0.75, flip 0.5, photometric distortion, pad",
            batchSize: extractionBatch, cacheFolder: cacheOptions.folder, maxPixels: pixelLimit.maxPixels)
        let metadata = SegmentationRun.headMetadata(recipe: recipe, backboneID: modelOptions.displayID, model: model, dataset: train,
                                                    runID: run.record.runID)
        let stepSeconds = try SegmentationRun.secondsPerStep(store: store, classes: train.classCount, batchSize: batchSize)
        say("training a linear head on \(store.count) views of \(store.gridHeight)x\(store.gridWidth)x\(store.dim) patch features: "
            + "\(settings.iterations) steps of batch \(batchSize)\(iters == nil ? " (Meta's passes over the data for \(train.count) images)" : ""), "
            + "about \(TerminalTask.formatDuration(Double(settings.iterations) * stepSeconds)) at \(String(format: "%.2f", stepSeconds)) s/step")
        let saving = try run.stateSaving(inputs: storeKey, every: runOptions.checkpointEvery, resume: runOptions.resume)
        let (head, log) = try SegmentationRun.train(store: store, classes: train.classCount, settings: settings, metadata: metadata,
                                                    saving: saving, reporter: reporter)
        let (evaluation, samples) = try evaluate(head, on: val, model: model, size: size, batchSize: extractionBatch, run: run)
        let report = SegmentationReport(record: run.record, settings: settings, result: evaluation?.metrics.result(), samples: samples, dataset: val, views: store.count)
        if let result = report.result { say(result.table()) }
        let outputs = try report.write(head: head, naming: headNaming, log: log, metrics: evaluation?.metrics,
                                       perImage: spelled(evaluation?.perImage ?? [], below: [dataOptions.data]), to: run.staging(), maxPixels: pixelLimit.maxPixels)
        try run.publishAndSay(outputs: outputs)
    }
}

extension TrainSeg {
    /// The head's scores on val (nil without a val split), and the first predictions for the report.
    func evaluate(_ head: LinearSegmenter, on val: SegmentationDataset?, model: DINOv3Model, size: Int, batchSize: Int, run: RunFolder) throws
        -> ((metrics: SegmentationMetrics, skipped: [SkippedInput], perImage: [SegmentationImageScore])?, [SegmentationReport.Sample]) {
        guard let val else { return (nil, []) }
        var samples: [SegmentationReport.Sample] = []
        let evaluation = try SegmentationRun.evaluate(head: head, model: model, dataset: val, inference: inferenceOptions.resolved(headSize: size),
                                                      batchSize: batchSize, maxPixels: pixelLimit.maxPixels,
                                                      reporter: TerminalReporter.shared) { index, mask, w, h in
            if samples.count < 6 { samples.append(.init(index: index, mask: mask, width: w, height: h)) }
        }
        try reportSkipped(evaluation.skipped, split: "val", folder: run)
        return (evaluation, samples)
    }

    /// The recipe's settings from the options (Meta's passes over the data when --iters is not given).
    func settings(trainImages: Int) -> SegmentationSettings {
        var settings = SegmentationSettings()
        (settings.batchSize, settings.seed) = (batchSize, seed)
        settings.iterations = iters ?? SegmentationSettings.defaultIterations(images: trainImages, batchSize: batchSize)
        (settings.learningRate, settings.weightDecay, settings.warmup) = (lr, weightDecay, warmup)
        return settings
    }

    /// The features the head trains on (blocks checked against `model`) and the augmented
    /// views asked for, at `size`.
    func storeRecipe(model: DINOv3Model, size: Int) throws -> (FeatureRecipe, AugmentedDenseViews<LabelMask>?) {
        let chosen = layers.flattened()
        if let last = chosen.last, last >= model.config.numHiddenLayers {
            throw ValidationError("--layers: the model has blocks 0 to \(model.config.numHiddenLayers - 1)")
        }
        let augmented = augment > 0
            ? AugmentedDenseViews(augmentation: SegmentationAugmentation(size: size), views: augment, seed: seed) : nil
        return (SegmentationRun.recipe(resolution: size, layers: chosen.isEmpty ? nil : chosen), augmented)
    }

    /// With a shard (`--shard I/N` or the scheduler's), builds only this process's part of the
    /// cached patch store, before any run folder exists, and returns true.
    func extractShardIfAsked(size: Int) throws -> Bool {
        guard let choice = try sharding.resolve() else { return false }
        guard let cacheFolder = cacheOptions.folder else { throw ValidationError("--shard builds the patch store in parts in the cache: drop --no-cache") }
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model, size: size)
        let train = try dataOptions.loadValid(.train, folder: nil, reporter: TerminalReporter.shared)
        try extractDenseShard(choice, model: model, dataset: train, recipe: recipe, flip: flip, augment: augmented,
                              batchSize: cacheOptions.batchSize(model, height: size, layers: recipe.blocks), cacheFolder: cacheFolder,
                              maxPixels: pixelLimit.maxPixels)
        return true
    }
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

    @Option(help: "Folder for metrics.json, per_image.csv, confusion.csv (pixels, label x prediction), run.json and, with --head, the predicted masks.", completion: .directory)
    var out: String?
    @OptionGroup var replacing: OverwriteOption

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
        let run = try out.map { try RunFolder.open($0, prefix: "eval-seg", overwrite: replacing.overwrite, guarding: ["metrics.json"], command: self) }
        defer { run?.close() }
        let reporter = TerminalReporter.shared
        let metrics: SegmentationMetrics, perImage: [SegmentationImageScore]
        var files: [String] = []
        if let head, let data {
            let segmenter = try LinearSegmenter.load(from: head)
            let val = try loadValidSegmentation(root: data, layout: layout, split: .val, folder: run, reporter: reporter)
            guard val.classNames == segmenter.metadata.classNames else {
                throw ValidationError("the head's \(segmenter.classes) classes are not this data set's \(val.classCount)")
            }
            let model = try modelOptions.load()
            try segmenter.metadata.checkCompatible(recipe: segmenter.metadata.recipe(), backboneFingerprint: model.fingerprint)
            try run?.update {
                $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
                $0.data = RunRecord.DataRecord(root: val.root, splits: ["val": .init(paths: val.samples.flatMap { [$0.image, $0.mask] })])
            }
            let inference = inferenceOptions.resolved(headSize: segmenter.metadata.inputResolution ?? 448)
            say("inference: \(inference.name)")
            let evaluation = try SegmentationRun.evaluate(head: segmenter, model: model, dataset: val, inference: inference, maxPixels: pixelLimit.maxPixels,
                                                          reporter: reporter) { index, mask, w, h in
                guard let run else { return }
                let stem = URL(fileURLWithPath: val.samples[index].mask).deletingPathExtension().lastPathComponent
                try PNGEncoder.writeIndexed(mask, width: w, height: h, palette: Array(val.palette.prefix(768)), to: run.staging() + "/pred/\(stem).png")
            }
            try reportSkipped(evaluation.skipped, split: "val", folder: run)
            (metrics, perImage) = (evaluation.metrics, evaluation.perImage)
            if let run, FileSystem.isDirectory(try run.staging() + "/pred") { files.append("pred/") }
        } else if let pred, let gt {
            let names = try classes.map(SegmentationFolder.readClassNames(at:)) ?? (0..<(numClasses ?? 0)).map { "class \($0)" }
            try run?.update {
                $0.data = RunRecord.DataRecord(root: FileSystem.absolute(gt), splits: [:])
            }
            let comparison = try MaskComparison.compare(predictions: pred, groundTruth: gt, classNames: names,
                                                        ignoreIndex: UInt8(ignoreIndex), reduceZeroLabel: reduceZeroLabel, reporter: reporter)
            try reportSkipped(comparison.skipped, split: "masks", folder: run)
            (metrics, perImage) = (comparison.metrics, comparison.perImage)
        } else {
            throw ValidationError("give --head with --data, or --pred with --gt")
        }
        let result = metrics.result()
        say(result.table())
        if let run {
            let staging = try run.staging()
            try result.writeJSON(to: staging + "/metrics.json")
            try AtomicFile.write(Data(SegmentationImageScore.csv(spelled(perImage, below: [data, pred, gt])).utf8), to: staging + "/per_image.csv")
            try AtomicFile.write(Data(metrics.confusionCSV().utf8), to: staging + "/confusion.csv")
            files = ["metrics.json", "per_image.csv", "confusion.csv"] + files
            try run.publishAndSay(outputs: files)
        }
    }
}
