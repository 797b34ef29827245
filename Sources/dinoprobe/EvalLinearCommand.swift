import ArgumentParser
import Backbone
import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support
import Training

/// A saved classifier head, loaded with the recipe it was trained on.
struct SavedClassifier {
    let head: LinearClassifier
    let recipe: FeatureRecipe

    init(path: String) throws {
        head = try LinearClassifier.load(from: path)
        recipe = try head.metadata.recipe()
    }

    /// Refuses a backbone other than the one the head was trained on.
    func check(model: DINOv3Model) throws {
        try head.metadata.checkCompatible(recipe: recipe, backboneFingerprint: model.fingerprint)
        guard recipe.width(dim: model.config.hiddenSize) == head.dim else {
            throw ValidationError("the head expects \(head.dim)-wide features; this backbone gives \(recipe.width(dim: model.config.hiddenSize))")
        }
    }
}

struct EvalLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-linear",
        abstract: "Evaluate a saved linear head on a data set's val split (features extracted with the head's own recipe).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: ClassificationDataOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(help: "Head saved by train-linear (head.safetensors).")
    var head: String

    @Option(help: "Which split to evaluate: val or train.")
    var split: DatasetSplit = .val

    @Option(help: "Folder for metrics.json, confusion.csv, confusion.png, predictions.csv and run.json (default: print only).")
    var out: String?

    @OptionGroup var pixelLimit: PixelLimitOption

    func run() throws {
        let saved = try SavedClassifier(path: head)
        let run = try out.map { try RunFolder($0, prefix: "eval-linear", overwrite: true, guarding: nil, command: self) }
        defer { run?.close() }
        // The weights first: a missing checkpoint should not cost a data-set download.
        let model = try modelOptions.load()
        try saved.check(model: model)
        let (train, val) = try dataOptions.load(reporter: TerminalReporter.shared)
        let dataset = split == .val ? val : train
        try run?.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threads)
            $0.data = RunRecord.DataRecord(root: dataset.root, splits: [split.rawValue: .init(paths: dataset.samples.map(\.path))])
        }
        let names = saved.head.metadata.classNames
        guard dataset.classNames == names || dataset.classIDs == names else {
            throw ValidationError("the head's classes (\(names.prefix(5).joined(separator: ", "))...) are not this data set's (\(dataset.classNames.prefix(5).joined(separator: ", "))...)")
        }
        let stored = FeatureCache.storedLayers(for: saved.recipe, depth: model.config.numHiddenLayers)
        let features = try cacheOptions.cache.split(of: dataset, model: model, backboneID: modelOptions.displayID,
                                                    preprocessing: saved.recipe.preprocessing, layers: stored,
                                                    batchSize: cacheOptions.batchSize(model, height: saved.recipe.preprocessing.size, layers: stored.count), maxPixels: pixelLimit.maxPixels, reporter: TerminalReporter.shared)
        try reportSkipped(features.skipped, split: split.rawValue, folder: run?.url)
        let rows = try features.labelled(saved.recipe.tokens, blocks: saved.recipe.blocks)
        let scores = try saved.head.logits(features: rows.values, count: rows.count)
        let metrics = try ClassificationMetrics(scores: scores, labels: rows.labels, classNames: names)
        say(metrics.table())
        if let run {
            let staging = try run.staging()
            try metrics.writeReports(to: staging, title: "Linear head on \(split.rawValue)")
            try ClassificationPredictions(paths: features.paths, probabilities: saved.head.probabilities(features: rows.values, count: rows.count),
                                          labels: rows.labels, classNames: names).write(to: staging + "/predictions.csv")
            let files = ["metrics.json", "confusion.csv", "confusion.png", "predictions.csv"]
            try run.publish(outputs: files)
            say("wrote \(run.path)/\(files.joined(separator: ", ")), run.json")
        }
    }
}

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a saved linear head: top classes with probabilities.")

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Image files, or folders searched recursively for images.")
    var images: [String]

    @Option(help: "Head saved by train-linear (head.safetensors).")
    var head: String

    @Option(help: "How many classes to show per image.")
    var top: Int = 5

    @Option(help: "Folder for predictions.csv (path, top classes and probabilities per image) and run.json.")
    var out: String?

    @OptionGroup var pixelLimit: PixelLimitOption

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
        try Check.range(top, 1...1000, "--top")
    }

    func run() throws {
        let saved = try SavedClassifier(path: head)
        let listing = try ImageFiles.expand(images)
        let run = try out.map { try RunFolder($0, prefix: "classify", overwrite: true, guarding: nil, command: self) }
        defer { run?.close() }
        let model = try modelOptions.load(quiet: true)
        try saved.check(model: model)
        let stored = FeatureCache.storedLayers(for: saved.recipe, depth: model.config.numHiddenLayers)
        let entry = try Extraction.tokens(model: model, paths: listing.images, preprocessing: saved.recipe.preprocessing,
                                          layers: stored, batchSize: 8, maxPixels: pixelLimit.maxPixels, name: "classify", reporter: SilentReporter())
        let vectors = try entry.features.vectors(saved.recipe.tokens, blocks: saved.recipe.blocks)
        let probabilities = try saved.head.probabilities(features: vectors.values, count: entry.features.count)
        let names = saved.head.metadata.classNames
        let predictions = try ClassificationPredictions(paths: entry.sourceIndex.map { listing.images[$0] }, probabilities: probabilities,
                                                        labels: nil, classNames: names, top: top)
        for row in predictions.rows {
            say(shown(row.path))
            for (c, p) in zip(row.top, row.probabilities) { say(String(format: "  %6.2f%%  %@", 100 * p, shown(names[c]))) }
        }
        if let run {
            try run.update {
                $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threads)
                $0.data = RunRecord.DataRecord(root: FileManager.default.currentDirectoryPath, splits: ["inputs": .init(paths: listing.images)])
            }
            try predictions.write(to: run.staging() + "/predictions.csv")
            try reportSkipped(listing.problems + entry.skipped, split: "inputs", folder: run.url)
            try run.publish(outputs: ["predictions.csv"])
            Console.err("wrote \(run.path)/predictions.csv, run.json")
        }
        for s in listing.problems + entry.skipped { Console.err("error: \(s)") }
        if !(listing.problems + entry.skipped).isEmpty { throw ExitCode(1) }
    }
}

struct KNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "k-NN classification on L2-normalised CLS features (k = 10, 20, 100, 200; temperature 0.07).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: ClassificationDataOptions
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(parsing: .upToNextOption, help: "Neighbour counts, comma-separated or repeated.")
    var k: [CommaList<Int>] = [CommaList(argument: "10,20,100,200")!]

    @Option(help: "Softmax temperature of the votes.")
    var temperature: Float = 0.07

    @Option(help: "Folder for knn.json, predictions-k<K>.csv per k and run.json (default: print only).")
    var out: String?

    @OptionGroup var sharding: ShardChoiceOptions

    func validate() throws {
        guard !k.flattened().isEmpty else { throw ValidationError("--k needs at least one value") }
        for value in k.flattened() { try Check.range(value, 1...10_000_000, "--k") }
        try Check.finite(temperature, 1e-4...100, "--temperature")
    }

    func run() throws {
        let preprocessing = try imageOptions.preprocessing()
        let stored = { (model: DINOv3Model) in FeatureCache.storedLayers(for: FeatureRecipe(tokens: .cls, blocks: 1), depth: model.config.numHiddenLayers) }
        if try sharding.extractCacheParts(model: modelOptions, images: imageOptions, cache: cacheOptions, data: dataOptions,
                                          storedLayers: { model, _ in stored(model) }) {
            return
        }
        let run = try out.map { try RunFolder($0, prefix: "knn", overwrite: true, guarding: nil, command: self) }
        defer { run?.close() }
        let model = try modelOptions.load()
        let (trainSet, valSet) = try dataOptions.load(reporter: TerminalReporter.shared)
        try run?.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threads)
            $0.data = RunRecord.DataRecord(root: trainSet.root, splits: ["train": .init(paths: trainSet.samples.map(\.path)),
                                                                         "val": .init(paths: valSet.samples.map(\.path))])
        }
        func split(_ dataset: ClassificationDataset) throws -> FeatureSplit {
            try cacheOptions.cache.split(of: dataset, model: model, backboneID: modelOptions.displayID, preprocessing: preprocessing,
                                         layers: stored(model), batchSize: cacheOptions.batchSize(model, height: preprocessing.size, layers: stored(model).count),
                                         maxPixels: imageOptions.maxPixels,
                                         reporter: TerminalReporter.shared)
        }
        let train = try split(trainSet), val = try split(valSet)
        try reportSkipped(train.skipped, split: "train", folder: run?.url)
        try reportSkipped(val.skipped, split: "val", folder: run?.url)
        let knn = try KNNClassifier(trainFeatures: train.features.normalisedCLS(), trainLabels: train.labels, dim: model.config.hiddenSize,
                                    classCount: trainSet.classCount, ks: k.flattened(), temperature: temperature)
        let scores = try knn.classScores(queries: val.features.normalisedCLS())
        let results = try scores.map { try KNNResult($0, labels: val.labels, classNames: valSet.classNames) }
        say("    k   top-1    top-5   balanced acc   macro F1")
        for r in results {
            let top5 = r.metrics.top5.map { String(format: "%6.2f%%", 100 * $0) } ?? "     -"
            say(String(format: "%5d  %6.2f%%  %@  %12.2f%%  %8.2f%%%@", r.k, 100 * r.metrics.top1, top5,
                       100 * r.metrics.balancedAccuracy, 100 * r.metrics.macroF1, r.effectiveK != r.k ? "  (k clamped to \(r.effectiveK))" : ""))
        }
        if let run {
            let staging = try run.staging()
            try MetricsReport.writeJSON(results, to: staging + "/knn.json")
            var files = ["knn.json"]
            for s in scores {
                try ClassificationPredictions(paths: val.paths, probabilities: s.scores, labels: val.labels, classNames: valSet.classNames)
                    .write(to: staging + "/predictions-k\(s.k).csv")
                files.append("predictions-k\(s.k).csv")
            }
            try run.publish(outputs: files)
            say("wrote \(run.path)/\(files.joined(separator: ", ")), run.json")
        }
    }
}
