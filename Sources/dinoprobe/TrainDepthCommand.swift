import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support
import Training

extension DepthBinsStrategy: ExpressibleByArgument {}
extension DepthNormStrategy: ExpressibleByArgument {}
extension DepthDataset.Layout: ExpressibleByArgument {}

struct TrainDepth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-depth",
        abstract: "Linear depth (Meta's NYU recipe): cache patch features, train the depth head (BN + 1x1 conv to depth bins, SigLoss), report rmse and the other depth metrics on val.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DepthDataOptions
    @OptionGroup var range: DepthRangeOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(help: "Input size S in pixels (square, a multiple of 16).")
    var size: Int = 448

    @Option(help: "Optimizer steps. Default: as many passes over the training pairs as Meta's 38,400 steps of 16 make over NYU (about 25), between 100 and 38,400.")
    var iters: Int?

    @Option(help: "Training batch size.")
    var batchSize: Int = 16

    @Option(help: "AdamW peak learning rate (one-cycle schedule).")
    var lr: Float = 3e-4

    @Option(help: "AdamW weight decay.")
    var weightDecay: Float = 1e-4

    @Option(help: "Clip the total gradient norm to this.")
    var clip: Float = 35

    @Option(help: "Warm-up steps of the one-cycle schedule (default: a third of --iters, as Meta's 12,800 of 38,400).")
    var warmup: Int?

    @Option(help: "Depth bins.")
    var bins: Int = 256

    @Option(help: "Bins spread linearly or logarithmically over [--min-depth, --max-depth].")
    var binsStrategy: DepthBinsStrategy = .linear

    @Option(help: "Bin weights from logits: linear (relu + 0.1, normalised), softmax or sigmoid.")
    var normStrategy: DepthNormStrategy = .linear

    @Flag(help: "Also cache a mirrored view of every training pair (doubles the views).")
    var flip = false

    @OptionGroup var sharding: ShardChoiceOptions

    @Option(help: "Cache N augmented views per training pair instead (Meta's: NYU crop, rotation, flip, S x S random crop, gamma/brightness/colour jitter).")
    var augment: Int = 0

    @Option(parsing: .upToNextOption, help: "Blocks whose normed patch tokens are concatenated before the head, 0-based; default the last block.")
    var layers: [CommaList<Int>] = []

    @OptionGroup var inferenceOptions: InferenceOptions

    @Flag(help: "Evaluate without flip test-time augmentation (default: the mean of each image's and its mirror's prediction, as Meta).")
    var noTTA = false

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @OptionGroup var pixelLimit: PixelLimitOption
    @OptionGroup var runOptions: TrainingRunOptions

    func validate() throws {
        try Check.multiple(size, of: 16, 16...4096, "--size")
        try Check.optionalRange(iters, DepthSettings.Ranges.iterations, "--iters")
        try Check.range(batchSize, DepthSettings.Ranges.batchSize, "--batch-size")
        try Check.finite(lr, DepthSettings.Ranges.learningRate, "--lr")
        try Check.finite(weightDecay, DepthSettings.Ranges.weightDecay, "--weight-decay")
        try Check.finite(clip, DepthSettings.Ranges.gradientClip, "--clip")
        try Check.optionalRange(warmup, 0...(iters ?? 100_000_000), "--warmup")
        try Check.range(bins, DepthSettings.Ranges.bins, "--bins")
        try Check.range(augment, DepthSettings.Ranges.augmentedViews, "--augment")
        if augment > 0 && flip { throw ValidationError("--augment already flips half of its views: drop --flip") }
        guard range.minDepth > 0 else { throw ValidationError("--min-depth must be above 0: the head's bins start there") }
        let chosen = layers.flattened()
        for layer in chosen { try Check.range(layer, 0...1023, "--layers") }
        if zip(chosen, chosen.dropFirst()).contains(where: { $0 >= $1 }) { throw ValidationError("--layers: give block indices in increasing order") }
    }

    func run() throws {
        if try extractShardIfAsked() { return }
        let run = try runOptions.open(prefix: "depth", command: self)
        defer { run.close() }
        let reporter = TerminalReporter.shared
        let train = try dataOptions.loadValid(.train, scale: range.depthScale, folder: run, reporter: reporter)
        let val: DepthDataset?
        do { val = try dataOptions.loadValid(.val, scale: range.depthScale, folder: run, reporter: reporter) } catch let DatasetError.missingSplit(_, path, _) {
            Console.err("no val split (\(shown(path)) does not exist): the head is trained but not evaluated")
            val = nil
        }
        // The data first (cheap, and a mistake there must not cost a backbone load), then the model.
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model)
        say("data: \(train.count) train\(val.map { " / \($0.count) val" } ?? "") pairs (\(train.layout.rawValue) layout, \(range.depthScale) per metre)")
        noteEvalCrop(range.evalCrop, layout: train.layout)
        let settings = self.settings(trainPairs: train.count)
        let extractionBatch = cacheOptions.batchSize(model, height: size, layers: recipe.blocks)
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.data = RunRecord.DataRecord(root: train.root, splits: [train, val].compactMap { $0 }.reduce(into: [:]) {
                $0[$1.split.rawValue] = RunRecord.Listing(paths: $1.samples.flatMap { [$0.image, $0.depth] })
            })
            $0.seeds = ["seed": seed]
            $0.options = OptionRecord.values(of: self, resolved: ["iters": settings.iterations, "warmup": settings.schedule.warmupSteps,
                                                                  "extract-batch-size": extractionBatch, "layers": recipe.layerIndices(depth: model.config.numHiddenLayers)])
        }
        let (store, storeKey) = try denseTrainingStore(run: run, model: model, dataset: train, recipe: recipe, flip: flip, augment: augmented,
            augmentation: "NYU crop, rotation 0.5, flip 0.5, \(size)x\(size) random crop, colour jitter 0.5", batchSize: extractionBatch,
            cacheFolder: cacheOptions.folder, maxPixels: pixelLimit.maxPixels)
        let metadata = DepthRun.headMetadata(recipe: recipe, backboneID: modelOptions.displayID, model: model, depthScale: range.depthScale,
                                             runID: run.record.runID)
        let stepSeconds = try DepthRun.secondsPerStep(store: store, settings: settings)
        say("training a depth head on \(store.count) views of \(store.gridHeight)x\(store.gridWidth)x\(store.dim) patch features: "
            + "\(settings.iterations) steps of batch \(batchSize)\(iters == nil ? " (Meta's passes over the data for \(train.count) pairs)" : ""), "
            + "about \(TerminalTask.formatDuration(Double(settings.iterations) * stepSeconds)) at \(String(format: "%.2f", stepSeconds)) s/step")
        let saving = try run.stateSaving(inputs: storeKey, every: runOptions.checkpointEvery, resume: runOptions.resume)
        let (head, log) = try DepthRun.train(store: store, settings: settings, metadata: metadata, saving: saving, reporter: reporter)
        var samples: [DepthReport.Sample] = []
        let evaluation = try val.map { val in
            try DepthRun.evaluate(head: head, model: model, dataset: val, evaluation: try range.evaluation(), inference: inferenceOptions.resolved(headSize: size),
                                  flip: !noTTA, maxPixels: pixelLimit.maxPixels, reporter: reporter) { index, prediction in
                if samples.count < 6 { samples.append(.init(index: index, prediction: prediction)) }
            }
        }
        try reportSkipped(evaluation?.skipped ?? [], split: "val", folder: run)
        let report = DepthReport(record: run.record, settings: settings, result: evaluation?.metrics.finish(), samples: samples, dataset: val, views: store.count)
        if let result = report.result { say(result.table()) }
        let outputs = try report.write(head: head, log: log, metrics: evaluation?.metrics, to: run.staging(), maxPixels: pixelLimit.maxPixels)
        try run.publish(outputs: outputs)
        say("saved \(run.path)/\(outputs.joined(separator: ", ")), run.json")
    }
}

extension TrainDepth {
    /// The recipe's settings from the options (Meta's passes over the data when --iters is not given).
    func settings(trainPairs: Int) -> DepthSettings {
        var s = DepthSettings()
        (s.batchSize, s.seed, s.learningRate, s.weightDecay, s.gradientClip, s.warmup) = (batchSize, seed, lr, weightDecay, clip, warmup)
        s.iterations = iters ?? DepthSettings.defaultIterations(images: trainPairs, batchSize: batchSize)
        s.head = DepthHeadRecipe(bins: bins, minDepth: range.minDepth, maxDepth: range.maxDepth, binsStrategy: binsStrategy, normStrategy: normStrategy)
        return s
    }

    /// The features the head trains on (blocks checked against `model`) and the augmented views asked for.
    func storeRecipe(model: DINOv3Model) throws -> (FeatureRecipe, AugmentedDenseViews<DepthMap>?) {
        let chosen = layers.flattened()
        if let last = chosen.last, last >= model.config.numHiddenLayers {
            throw ValidationError("--layers: the model has blocks 0 to \(model.config.numHiddenLayers - 1)")
        }
        let augmented = augment > 0 ? AugmentedDenseViews(augmentation: DepthAugmentation(size: size), views: augment, seed: seed) : nil
        return (FeatureRecipe.dense(resolution: size, layers: chosen.isEmpty ? nil : chosen), augmented)
    }

    /// With a shard, builds only this process's part of the cached patch store and returns true.
    func extractShardIfAsked() throws -> Bool {
        guard let choice = try sharding.resolve() else { return false }
        guard let cacheFolder = cacheOptions.folder else { throw ValidationError("--shard builds the patch store in parts in the cache: drop --no-cache") }
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model)
        let train = try dataOptions.loadValid(.train, scale: range.depthScale, folder: nil, reporter: TerminalReporter.shared)
        try extractDenseShard(choice, model: model, dataset: train, recipe: recipe, flip: flip, augment: augmented,
                              batchSize: cacheOptions.batchSize(model, height: size, layers: recipe.blocks), cacheFolder: cacheFolder,
                              maxPixels: pixelLimit.maxPixels)
        return true
    }
}

/// Which depth data set and layout.
struct DepthDataOptions: ParsableArguments {
    @Option(help: "Data set root: Meta's NYU layout (nyu_train.txt, nyu_test.txt) or images/{train,val}/ + depth/{train,val}/.")
    var data: String

    @Option(help: "Layout: nyu or folder (default: nyu when ROOT holds nyu_train.txt or nyu_test.txt).")
    var layout: DepthDataset.Layout?

    func validate() throws {
        guard FileSystem.isDirectory(data) else { throw ValidationError("--data \(data) is not a folder") }
    }

    /// One split with its bad pairs removed and reported.
    func loadValid(_ split: DatasetSplit, scale: Float, folder: RunFolder?, reporter: Reporter) throws -> DepthDataset {
        try loadValidDepth(root: data, layout: layout, split: split, scale: scale, folder: folder, reporter: reporter)
    }
}

/// Says when NYU's Eigen crop (the default) scores a data set that is not in the NYU layout.
func noteEvalCrop(_ crop: DepthEvalCrop, layout: DepthDataset.Layout) {
    guard crop == .nyuEigen, layout != .nyu else { return }
    Console.err("note: scoring NYU's Eigen crop of a \(layout.rawValue)-layout data set; give --eval-crop full (or garg for KITTI) to score other regions")
}

/// One split of a depth data set, with its bad pairs removed and reported.
func loadValidDepth(root: String, layout: DepthDataset.Layout?, split: DatasetSplit, scale: Float, folder: RunFolder?,
                    reporter: Reporter) throws -> DepthDataset {
    let dataset = try DepthDataset.load(root: root, split: split, layout: layout, depthScale: scale)
    let task = reporter.task("check \(split.rawValue) pairs", total: dataset.count, unit: "pairs")
    let (valid, skipped) = dataset.validate { done, _ in task.update(done) }
    task.finish(dataset.count, note: skipped.isEmpty ? "" : "\(skipped.count) bad")
    try reportSkipped(skipped, split: split.rawValue, folder: folder)
    guard valid.count > 0 else { throw ValidationError("no usable image/depth pair in the \(split.rawValue) split of \(root)") }
    return valid
}
