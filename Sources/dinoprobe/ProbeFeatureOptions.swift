import ArgumentParser
import CommandLineKit
import Heads
import Support
import Training

/// The tokens of an image-level probe (`--tokens`): only the values those commands accept.
enum ImageTokens: String, ExpressibleByArgument, CaseIterable {
    case cls, clsAvgpool = "cls+avgpool"

    var featureTokens: FeatureTokens { self == .cls ? .cls : .clsAvgpool }
}

/// What the probes on image-level features (train-linear, train-logreg) train on: a data set
/// through the backbone (features cached), or features files from `dinoprobe extract`; which
/// tokens and blocks make the feature vector.
struct ProbeFeatureOptions: ParsableArguments {
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var cacheOptions: CacheOptions
    @OptionGroup var dataOptions: ClassificationDataOptions

    @Option(help: "Train on features from `dinoprobe extract` instead of a data set (labels from folder names).", completion: .file())
    var featuresFile: String?

    @Option(help: "Validation features from `dinoprobe extract` (with --features-file).", completion: .file())
    var valFeaturesFile: String?

    @Option(help: "Feature tokens: cls, or cls+avgpool ([CLS ‖ mean patch], the DINOv3 default for linear probes).")
    var tokens: ImageTokens?

    @Option(help: "Use the last N blocks (CLS of each, concatenated; Meta: 1 or 4).")
    var blocks: Int?

    @Option(parsing: .upToNextOption, help: "Explicit blocks instead of the last N: 0-based indices, two or more (e.g. 2,5,8,11); CLS of each, concatenated.")
    var layers: [CommaList<Int>] = []

    @OptionGroup var sharding: ShardChoiceOptions

    func validate() throws {
        try Check.range(blocks ?? 1, FeatureRecipe.blockRange, "--blocks")
        let layers = layers.flattened()
        if !layers.isEmpty && blocks != nil { throw ValidationError("give --blocks N (the last N) or --layers a,b,c (these blocks), not both") }
        for layer in layers { try Check.range(layer, FeatureRecipe.layerRange, "--layers") }
        if layers.count >= 2, zip(layers, layers.dropFirst()).contains(where: { $0 >= $1 }) {
            throw ValidationError("--layers \(layers.map(String.init).joined(separator: ",")): give block indices in increasing order")
        }
        guard (dataOptions.data == nil) != (featuresFile == nil) else { throw ValidationError("give either --data or --features-file") }
        if featuresFile != nil && valFeaturesFile == nil { throw ValidationError("--features-file needs --val-features-file") }
    }

    /// What a probe command starts from: its run folder (open: the caller closes it), the features
    /// and the tokens and blocks that make them.
    struct Start {
        let run: RunFolder
        let train: FeatureSplit
        let val: FeatureSplit
        let tokens: FeatureTokens
        let blocks: Int
    }

    /// Opens the run folder (recording the resolved tokens and blocks with `command`'s options)
    /// and loads the features; the folder is closed again when loading fails.
    func start(prefix: String, command: ParsableArguments, defaultTokens: FeatureTokens, seed: UInt64,
               runOptions: TrainingRunOptions) throws -> Start {
        let tokens = self.tokens?.featureTokens ?? defaultTokens
        let choice = probeBlocks
        let run = try runOptions.open(prefix: prefix, command: command,
                                      resolved: ["tokens": tokens, "blocks": choice.count, "layers": choice.explicit ?? []])
        do {
            let (train, val) = try loadSplits(choice: choice, seed: seed, run: run)
            return Start(run: run, train: train, val: val, tokens: tokens, blocks: choice.count)
        } catch {
            run.close()
            throw error
        }
    }

    /// With a shard (`--shard I/N` or the scheduler's), extracts only this process's part of the
    /// cached train and val features, before any run folder exists, and returns true.
    func extractShardIfAsked() throws -> Bool {
        guard try sharding.resolve() != nil else { return false }
        guard featuresFile == nil else { throw ValidationError("--shard extracts features from --data; features files need no extraction") }
        return try sharding.extractCacheParts(model: modelOptions, images: imageOptions, cache: cacheOptions, data: dataOptions) { model, preprocessing in
            let recipe = try probeBlocks.recipe(tokens: .cls, preprocessing: preprocessing, depth: model.config.numHiddenLayers)
            return FeatureCache.storedLayers(for: recipe, depth: model.config.numHiddenLayers)
        }
    }

    /// The blocks --blocks or --layers name.
    var probeBlocks: ProbeBlocks { ProbeBlocks(layers: layers.flattened(), blocks: blocks) }

    /// A short name of the data for titles: the data set's folder name, or the features file's.
    var dataName: String { ByteText.name(of: (featuresFile ?? dataOptions.data ?? "data")) }

    /// Train and val features: from features files, or extracted (cached) from a data set. Records
    /// the seed, backbone and data in the run's record.
    func loadSplits(choice: ProbeBlocks, seed: UInt64, run: RunFolder) throws -> (train: FeatureSplit, val: FeatureSplit) {
        try run.update { $0.seeds = ["seed": seed] }
        if let featuresFile, let valFeaturesFile {
            let (train, val) = try ProbeFeatures.read(trainFile: featuresFile, valFile: valFeaturesFile)
            try run.update {
                $0.data = RunRecord.DataRecord(root: FileSystem.absolute(featuresFile),
                                               splits: ["train": .init(paths: train.paths), "val": .init(paths: val.paths)])
            }
            return (train, val)
        }
        // A local data set is read first; the weights before a download: a missing checkpoint should not cost one.
        let preprocessing = try imageOptions.preprocessing()
        let local = try dataOptions.loadLocal()
        let model = try modelOptions.load()
        let recipe = try choice.recipe(tokens: .cls, preprocessing: preprocessing, depth: model.config.numHiddenLayers)
        let (trainSet, valSet) = try local ?? dataOptions.load(reporter: TerminalReporter.shared)
        guard trainSet.classIDs == valSet.classIDs else { throw ValidationError("train and val have different classes") }
        say("data: \(trainSet.count) train / \(valSet.count) val images, \(trainSet.classCount) classes")
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.data = .classification(train: trainSet, val: valSet)
        }
        var (train, val) = try cacheOptions.splits(train: trainSet, val: valSet, model: model, backboneID: modelOptions.displayID,
                                                   preprocessing: preprocessing, layers: FeatureCache.storedLayers(for: recipe, depth: model.config.numHiddenLayers),
                                                   maxPixels: imageOptions.maxPixels)
        (train.paths, val.paths) = (dataOptions.spelled(train.paths), dataOptions.spelled(val.paths))
        // Blocks named explicitly stay explicit in the head's recipe, even when they are the last ones.
        (train.source.layers, val.source.layers) = (choice.explicit, choice.explicit)
        try reportSkipped((train, val), folder: run)
        guard Set(train.labels).count >= 2 else { throw ValidationError("fewer than 2 classes have readable training images") }
        return (train, val)
    }
}

extension ProbeFeatureOptions {
    /// `views` augmented views (Meta's training transform) of every training image, for
    /// `train`'s images, cached like the plain features. Needs `--data` (not features files).
    func augmentedViews(of train: FeatureSplit, views: Int, seed: UInt64, run: RunFolder) throws -> AugmentedViews {
        guard featuresFile == nil else { throw ValidationError("--augment needs --data: views are made from the images") }
        let preprocessing = try imageOptions.preprocessing()
        let model = try modelOptions.load(quiet: true)
        let choice = probeBlocks
        let recipe = try choice.recipe(tokens: .cls, preprocessing: preprocessing, depth: model.config.numHiddenLayers)
        let (trainSet, _) = try dataOptions.load(reporter: TerminalReporter.shared)
        let stored = FeatureCache.storedLayers(for: recipe, depth: model.config.numHiddenLayers)
        let (augmented, note) = try ProbeFeatures.augmentedViews(
            of: trainSet, train: train, cache: cacheOptions.cache, model: model, preprocessing: preprocessing, layers: stored, views: views, seed: seed,
            batchSize: cacheOptions.batchSize(model, height: preprocessing.size, layers: stored.count), maxPixels: imageOptions.maxPixels,
            reporter: TerminalReporter.shared)
        say("augmented: \(note)")
        try run.update { $0.notes["augmentation"] = note }
        return augmented
    }
}

/// Where a probe chooses its hyperparameter (learning rate, or C).
struct SelectionOptions: ParsableArguments {
    @Option(help: "Choose on 'holdout' (part of train) or 'val' (optimistic).")
    var selectOn: SelectOn = .holdout

    @Option(help: "Fraction of train held out for choosing.")
    var holdout: Double = 0.1

    func validate() throws { try Check.finite(holdout, 0.001...0.499, "--holdout") }

    var selection: ProbeSelection { selectOn == .val ? .val : .holdout(fraction: holdout) }

    /// How the choice is described in progress lines.
    var description: String { selectOn == .val ? "val" : "held-out train" }
}
