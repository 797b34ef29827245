import ArgumentParser
import Backbone
import Foundation
import Heads
import SafeTensors
import Training

struct TrainLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-linear",
        abstract: "Linear probing: extract (cached) features, train Meta's learning-rate grid, report metrics, save the best head.",
        discussion: """
        All heads (one per learning rate, scaled by batch/256) train together on the same batches. The \
        best rate is chosen on a held-out slice of train (--holdout), or on val with --select-on val \
        (the optimistic paper protocol). The run folder receives head.safetensors, metrics.json, \
        confusion.csv, confusion.png, grid.json and the list of skipped images.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocess: PreprocessOptions
    @OptionGroup var cacheOptions: CacheOptions

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Train on features from `dinoprobe extract` instead of a data set (labels from folder names).")
    var featuresFile: String?

    @Option(help: "Validation features from `dinoprobe extract` (with --features-file).")
    var valFeaturesFile: String?

    @Option(help: "Feature recipe: cls or cls+avgpool ([CLS ‖ mean patch], the DINOv3 default).")
    var features: FeatureTokens = .clsAvgpool

    @Option(help: "Use the last 1 or 4 blocks (CLS of each, concatenated).")
    var layers: Int = 1

    @Option(help: "Epochs.")
    var epochs: Int = 10

    @Option(help: "Optimizer steps per epoch (Meta's protocol: 1250, batches drawn from reshuffled passes); 0: one pass over the features.")
    var itersPerEpoch: Int = 1250

    @Option(help: "Batch size.")
    var batchSize: Int = 128

    @Option(parsing: .upToNextOption, help: "Base learning rates (scaled by batch/256). Default: Meta's 13, 1e-5 ... 0.1.")
    var lrs: [Float] = []

    @Option(help: "sgd (momentum 0.9) or adamw.")
    var optimizer: ProbeOptimizer = .sgd

    @Option(help: "Weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Linear warm-up epochs before the cosine decay.")
    var warmupEpochs: Double = 0

    @Option(help: "Seed for initialisation, shuffling and the hold-out split.")
    var seed: UInt64 = 0

    @Option(help: "Choose the best rate on 'holdout' (part of train) or 'val' (optimistic).")
    var selectOn: String = "holdout"

    @Option(help: "Fraction of train held out for choosing the rate.")
    var holdout: Double = 0.1

    @Option(help: "Run folder (default runs/linear-DATE).")
    var out: String?

    @Flag(help: "Replace the head of an earlier run in --out.")
    var overwrite = false

    func validate() throws {
        try Check.range(layers, 1...1024, "--layers")
        try Check.range(epochs, 1...100_000, "--epochs")
        try Check.range(itersPerEpoch, 0...10_000_000, "--iters-per-epoch")
        try Check.range(epochs * max(itersPerEpoch, 1), 1...1_000_000_000, "--epochs x --iters-per-epoch")
        try Check.range(batchSize, 1...1_000_000, "--batch-size")
        for rate in lrs { try Check.finite(rate, Float.leastNormalMagnitude...1000, "--lrs") }
        try Check.finite(weightDecay, 0...1000, "--weight-decay")
        try Check.finite(warmupEpochs, 0...Double(epochs), "--warmup-epochs")
        try Check.finite(holdout, 0.001...0.499, "--holdout")
        guard selectOn == "holdout" || selectOn == "val" else { throw ValidationError("--select-on must be holdout or val") }
        guard (dataOptions.data == nil) != (featuresFile == nil) else { throw ValidationError("give either --data or --features-file") }
        if featuresFile != nil && valFeaturesFile == nil { throw ValidationError("--features-file needs --val-features-file") }
    }

    func run() throws {
        let run = try RunFolder(out, prefix: "linear", overwrite: overwrite, guarding: "head.safetensors")
        defer { run.close() }
        let folder = run.url
        let inputs = try loadFeatures(folder: folder)
        var settings = LinearProbeSettings()
        if !lrs.isEmpty { settings.learningRates = lrs }
        settings.epochs = epochs
        settings.iterationsPerEpoch = itersPerEpoch == 0 ? nil : itersPerEpoch
        settings.batchSize = batchSize
        settings.optimizer = optimizer
        settings.weightDecay = weightDecay
        settings.warmupEpochs = warmupEpochs
        settings.seed = seed

        let train = try inputs.train.labelled(features, blocks: layers)
        let val = try inputs.val.labelled(features, blocks: layers)
        let fitting: LabelledFeatures, selection: LabelledFeatures
        if selectOn == "val" {
            (fitting, selection) = (train, val)
        } else {
            let split = train.stratifiedSplit(fraction: holdout, seed: seed)
            (fitting, selection) = (train.rows(split.keep), train.rows(split.holdout))
        }
        let recipe = FeatureRecipe(tokens: features, blocks: layers, preprocessing: inputs.preprocessing)
        let metadata = HeadMetadata(kind: .classifier, featureRecipe: recipe.summary, backboneID: inputs.modelID,
                                    backboneFingerprint: inputs.fingerprint, classNames: inputs.classNames,
                                    inputResolution: inputs.preprocessing.size,
                                    extra: ["recipe": try jsonString(recipe), "tokens": features.rawValue, "blocks": "\(layers)"])
        say("training \(settings.learningRates.count) heads on \(fitting.count) x \(train.width) features, \(inputs.classNames.count) classes; choosing on \(selection.count) \(selectOn == "val" ? "val" : "held-out train") samples")
        let totalSteps = LinearProbe.totalSteps(samples: fitting.count, settings: settings)
        let progress = ProgressReporter("train", total: totalSteps, unit: "steps")
        var (grid, result) = try LinearProbe.train(fitting, selection: selection, classes: inputs.classNames.count,
                                                   settings: settings, metadata: metadata) { step, _, epoch, loss in
            progress.update(step, note: String(format: "epoch %d/%d, mean loss %.4f", epoch, settings.epochs, loss))
        }
        progress.finish(totalSteps)
        result.selectedOn = selectOn
        if selectOn == "holdout" { result.reportedAccuracy = try grid.accuracies(features: val.values, labels: val.labels) }
        say(LinearProbe.table(result))

        var head = try grid.head(at: result.bestIndex)
        head.metadata.extra["selected_on"] = selectOn
        let scores = try head.logits(features: val.values, count: val.count)
        let metrics = try ClassificationMetrics(scores: scores, labels: val.labels, classNames: inputs.classNames)
        say("\nval metrics of the best head (lr \(result.learningRates[result.bestIndex]) x \(batchSize)/256):")
        say(metrics.table())
        try head.save(to: folder.appendingPathComponent("head.safetensors").path)
        try metrics.writeReports(to: folder.path, title: "Linear probe, val (\(recipe.tokens.rawValue), \(layers) block\(layers == 1 ? "" : "s"))")
        try MetricsReport.writeJSON(RunSummary(settings: settings, grid: result, recipe: recipe.summary,
                                               backbone: inputs.modelID, fingerprint: inputs.fingerprint,
                                               trainSamples: fitting.count, selectionSamples: selection.count, valSamples: val.count),
                                    to: folder.appendingPathComponent("grid.json").path)
        say("\nsaved \(folder.path)/head.safetensors, metrics.json, confusion.csv, confusion.png, grid.json")
    }

    /// What the grid needs, from a data set (extracted, cached) or from features files.
    struct Inputs {
        var train: SplitFeatures
        var val: SplitFeatures
        var classNames: [String]
        var preprocessing: Preprocessing
        var modelID: String
        var fingerprint: String
    }

    func loadFeatures(folder: URL) throws -> Inputs {
        if let featuresFile, let valFeaturesFile {
            let train = try FeaturesFile(path: featuresFile)
            let val = try FeaturesFile(path: valFeaturesFile, classNames: train.classNames)
            guard train.features.backboneFingerprint == val.features.backboneFingerprint else {
                throw ValidationError("\(featuresFile) and \(valFeaturesFile) come from different backbones (fingerprints \(train.features.backboneFingerprint) and \(val.features.backboneFingerprint))")
            }
            guard train.preprocessing == val.preprocessing else {
                throw ValidationError("\(featuresFile) and \(valFeaturesFile) were extracted with different preprocessing")
            }
            return Inputs(train: SplitFeatures(features: train.features, labels: train.labels, paths: train.paths),
                          val: SplitFeatures(features: val.features, labels: val.labels, paths: val.paths),
                          classNames: train.classNames, preprocessing: train.preprocessing, modelID: train.modelID,
                          fingerprint: train.features.backboneFingerprint)
        }
        // The weights first: a missing checkpoint should not cost a data-set download.
        let preprocessing = try preprocess.preprocessing()
        let model = try modelOptions.load()
        let (trainSet, valSet) = try dataOptions.load()
        guard trainSet.classIDs == valSet.classIDs else {
            throw ValidationError("train and val have different classes")
        }
        say("data: \(trainSet.count) train / \(valSet.count) val images, \(trainSet.classCount) classes")
        let blocks = cachedBlocks(layers: layers, model: model)
        guard layers <= model.config.numHiddenLayers else {
            throw ValidationError("--layers \(layers): the model has \(model.config.numHiddenLayers) blocks")
        }
        let cache = cacheOptions.cache
        let train = try SplitFeatures.extract(model: model, dataset: trainSet, preprocessing: preprocessing, blocks: blocks,
                                              cache: cache, batchSize: cacheOptions.extractBatchSize,
                                              maxPixels: preprocess.maxPixels, log: stderrPrint)
        let val = try SplitFeatures.extract(model: model, dataset: valSet, preprocessing: preprocessing, blocks: blocks,
                                            cache: cache, batchSize: cacheOptions.extractBatchSize,
                                            maxPixels: preprocess.maxPixels, log: stderrPrint)
        try reportSkipped(train.features.skipped, split: "train", folder: folder)
        try reportSkipped(val.features.skipped, split: "val", folder: folder)
        guard Set(train.labels).count >= 2 else { throw ValidationError("fewer than 2 classes have readable training images") }
        return Inputs(train: train, val: val, classNames: trainSet.classNames, preprocessing: preprocessing,
                      modelID: modelOptions.displayID, fingerprint: model.fingerprint)
    }
}

/// What `grid.json` records about a run.
struct RunSummary: Encodable {
    let settings: LinearProbeSettings
    let grid: GridResult
    let recipe: String
    let backbone: String
    let fingerprint: String
    let trainSamples: Int
    let selectionSamples: Int
    let valSamples: Int
}
