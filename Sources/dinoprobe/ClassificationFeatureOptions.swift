import ArgumentParser
import Backbone
import Datasets
import Foundation
import Heads
import Support
import Training

/// Where a classification command's features come from: a data set through the backbone (with
/// the feature cache), or train and val features files from `dinoprobe extract`.
struct ClassificationFeatureOptions: ParsableArguments {
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var cacheOptions: CacheOptions
    @OptionGroup var dataOptions: ClassificationDataOptions

    @Option(help: "Train on features from `dinoprobe extract` instead of a data set (labels from folder names).")
    var featuresFile: String?

    @Option(help: "Validation features from `dinoprobe extract` (with --features-file).")
    var valFeaturesFile: String?

    func validate() throws {
        guard (dataOptions.data == nil) != (featuresFile == nil) else { throw ValidationError("give either --data or --features-file") }
        if featuresFile != nil && valFeaturesFile == nil { throw ValidationError("--features-file needs --val-features-file") }
    }

    /// A short name of the data for titles: the data set's folder name, or the features file's.
    var dataName: String { ((featuresFile ?? dataOptions.data ?? "data") as NSString).lastPathComponent }

    /// Train and val features (from features files, or extracted and cached from the data set),
    /// recorded in the run's run.json; skipped images reported.
    func load(choice: LayerChoice, run: RunFolder) throws -> (train: FeatureSplit, val: FeatureSplit) {
        let folder = run.url
        if let featuresFile, let valFeaturesFile {
            let train = try FeaturesFile.read(path: featuresFile)
            let val = try FeaturesFile.read(path: valFeaturesFile, classNames: train.classNames)
            try train.checkMatches(val)
            try run.update {
                $0.data = RunRecord.DataRecord(root: FileSystem.absolute(featuresFile),
                                               splits: ["train": .init(paths: train.paths), "val": .init(paths: val.paths)])
            }
            return (train, val)
        }
        // The weights first: a missing checkpoint should not cost a data-set download.
        let preprocessing = try imageOptions.preprocessing()
        let model = try modelOptions.load()
        let recipe = try choice.recipe(tokens: .cls, preprocessing: preprocessing, model: model)
        let (trainSet, valSet) = try dataOptions.load(reporter: TerminalReporter.shared)
        guard trainSet.classIDs == valSet.classIDs else { throw ValidationError("train and val have different classes") }
        say("data: \(trainSet.count) train / \(valSet.count) val images, \(trainSet.classCount) classes")
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threads)
            $0.data = RunRecord.DataRecord(root: trainSet.root, splits: ["train": .init(paths: trainSet.samples.map(\.path)),
                                                                         "val": .init(paths: valSet.samples.map(\.path))])
        }
        let stored = FeatureCache.storedLayers(for: recipe, depth: model.config.numHiddenLayers)
        func split(_ dataset: ClassificationDataset) throws -> FeatureSplit {
            try cacheOptions.cache.split(of: dataset, model: model, backboneID: modelOptions.displayID, preprocessing: preprocessing,
                                         layers: stored, batchSize: cacheOptions.extractBatchSize, maxPixels: imageOptions.maxPixels,
                                         reporter: TerminalReporter.shared)
        }
        var train = try split(trainSet), val = try split(valSet)
        // Blocks named explicitly stay explicit in the head's recipe, even when they are the last ones.
        (train.source.layers, val.source.layers) = (choice.explicit, choice.explicit)
        try reportSkipped(train.skipped, split: "train", folder: folder)
        try reportSkipped(val.skipped, split: "val", folder: folder)
        guard Set(train.labels).count >= 2 else { throw ValidationError("fewer than 2 classes have readable training images") }
        return (train, val)
    }
}
