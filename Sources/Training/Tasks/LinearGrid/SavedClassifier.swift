import Backbone
import Datasets
import Evaluation
import Heads
import Support

/// A saved classifier head, loaded with the recipe it was trained on: what `eval-linear` and
/// `classify` apply to new features.
public struct SavedClassifier: Sendable {
    public let head: LinearClassifier
    public let recipe: FeatureRecipe

    public init(path: String) throws {
        head = try LinearClassifier.load(from: path)
        recipe = try head.metadata.recipe()
    }

    /// Refuses a backbone other than the one the head was trained on.
    public func check(model: DINOv3Model) throws {
        try head.metadata.checkCompatible(recipe: recipe, backboneFingerprint: model.fingerprint)
        guard recipe.width(dim: model.config.hiddenSize) == head.dim else {
            throw TrainingError.incompatible("the head expects \(head.dim)-wide features; this backbone gives \(recipe.width(dim: model.config.hiddenSize))")
        }
    }

    /// Refuses a data set whose classes (names or ids) are not the head's.
    public func check(classNames: [String], classIDs: [String]) throws {
        let names = head.metadata.classNames
        guard classNames == names || classIDs == names else {
            throw TrainingError.incompatible("the head's classes (\(names.prefix(5).joined(separator: ", "))...) are not this data set's (\(classNames.prefix(5).joined(separator: ", "))...)")
        }
    }

    /// The features of `dataset` (its classes checked first) with the head's own recipe, through
    /// `model`, cached in `cache`; `batchSize` gives the images per batch for a number of blocks.
    public func features(of dataset: ClassificationDataset, model: DINOv3Model, cache: FeatureCache, backboneID: String,
                         batchSize: (_ blocks: Int) -> Int, maxPixels: Int, reporter: Reporter) throws -> FeatureSplit {
        try check(classNames: dataset.classNames, classIDs: dataset.classIDs)
        let stored = FeatureCache.storedLayers(for: recipe, depth: model.config.numHiddenLayers)
        return try cache.split(of: dataset, model: model, backboneID: backboneID, preprocessing: recipe.preprocessing, layers: stored,
                               batchSize: batchSize(stored.count), maxPixels: maxPixels, reporter: reporter)
    }

    /// The head's metrics and per-image predictions on a labelled split's features.
    public func evaluate(_ split: FeatureSplit) throws -> (metrics: ClassificationMetrics, predictions: ClassificationPredictions) {
        let rows = try split.labelled(recipe.tokens, blocks: recipe.blocks)
        let names = head.metadata.classNames
        let metrics = try ClassificationMetrics(scores: head.logits(features: rows.values, count: rows.count), labels: rows.labels,
                                                classNames: names)
        let predictions = try ClassificationPredictions(paths: split.paths, probabilities: head.probabilities(features: rows.values, count: rows.count),
                                                        labels: rows.labels, classNames: names)
        return (metrics, predictions)
    }

    /// Writes eval-linear's metrics.json, confusion.csv, confusion.png and predictions.csv into `folder`; returns the names.
    public static func write(metrics: ClassificationMetrics, predictions: ClassificationPredictions, title: String,
                             to folder: String) throws -> [String] {
        try metrics.writeReports(to: folder, title: title)
        try predictions.write(to: folder + "/predictions.csv")
        return ["metrics.json", "confusion.csv", "confusion.png", "predictions.csv"]
    }

    /// The `top` classes with probabilities of every readable image in `images` (unlabelled),
    /// and the images that could not be read.
    public func classify(_ images: [String], model: DINOv3Model, top: Int, maxPixels: Int) throws
        -> (predictions: ClassificationPredictions, skipped: [SkippedInput]) {
        let stored = FeatureCache.storedLayers(for: recipe, depth: model.config.numHiddenLayers)
        let entry = try Extraction.tokens(model: model, paths: images, preprocessing: recipe.preprocessing, layers: stored, batchSize: 8,
                                          maxPixels: maxPixels, name: "classify", reporter: SilentReporter())
        let vectors = try entry.features.vectors(recipe.tokens, blocks: recipe.blocks)
        let probabilities = try head.probabilities(features: vectors.values, count: entry.features.count)
        let predictions = try ClassificationPredictions(paths: entry.sourceIndex.map { images[$0] }, probabilities: probabilities,
                                                        labels: nil, classNames: head.metadata.classNames, top: top)
        return (predictions, entry.skipped)
    }

    /// What `classify` prints: each image, then its top classes with their probabilities.
    public func lines(_ predictions: ClassificationPredictions) -> [String] {
        predictions.rows.flatMap { row in
            [shown(row.path)] + zip(row.top, row.probabilities).map { c, p in String(format: "  %6.2f%%  %@", 100 * p, shown(head.metadata.classNames[c])) }
        }
    }
}
