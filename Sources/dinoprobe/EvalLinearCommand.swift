import ArgumentParser
import Backbone
import Foundation
import Heads
import Training
import Images

struct EvalLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-linear",
        abstract: "Evaluate a saved linear head on a data set's val split (features extracted with the head's own recipe).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(help: "Head saved by train-linear (head.safetensors).")
    var head: String

    @Option(help: "Which split to evaluate: val or train.")
    var split: String = "val"

    @Option(help: "Folder for metrics.json, confusion.csv and confusion.png (default: print only).")
    var out: String?

    @Option(help: "Refuse images with more pixels than this.")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    func validate() throws {
        guard DatasetSplit(rawValue: split) != nil else { throw ValidationError("--split must be val or train") }
        try Check.range(maxPixels, 1...ImageDecoder.maxPixelsLimit, "--max-pixels")
    }

    func run() throws {
        guard let which = DatasetSplit(rawValue: split) else { throw ValidationError("--split must be val or train") }
        let loaded = try LoadedClassifier(path: head)
        let run = try out.map { try RunFolder($0, prefix: "eval-linear", overwrite: true, guarding: nil) }
        defer { run?.close() }
        let folder = run?.url
        // The weights first: a missing checkpoint should not cost a data-set download.
        let model = try modelOptions.load()
        try loaded.check(model: model, path: head)
        let (train, val) = try dataOptions.load()
        let dataset = which == .val ? val : train
        guard dataset.classNames == loaded.head.metadata.classNames || dataset.classIDs == loaded.head.metadata.classNames else {
            throw ValidationError("the head's classes (\(loaded.head.metadata.classNames.prefix(5).joined(separator: ", "))...) are not this data set's (\(dataset.classNames.prefix(5).joined(separator: ", "))...)")
        }
        let features = try SplitFeatures.extract(model: model, dataset: dataset, preprocessing: loaded.recipe.preprocessing,
                                                 blocks: loaded.blocks(for: model), cache: cacheOptions.cache,
                                                 batchSize: cacheOptions.extractBatchSize, maxPixels: maxPixels, log: stderrPrint)
        try reportSkipped(features.features.skipped, split: which.rawValue, folder: folder)
        let rows = try features.labelled(loaded.recipe.tokens, blocks: loaded.recipe.blocks)
        let scores = try loaded.head.logits(features: rows.values, count: rows.count)
        let metrics = try ClassificationMetrics(scores: scores, labels: rows.labels, classNames: loaded.head.metadata.classNames)
        say(metrics.table())
        if let folder {
            try metrics.writeReports(to: folder.path, title: "Linear head on \(which.rawValue)")
            say("wrote \(folder.path)/metrics.json, confusion.csv, confusion.png")
        }
    }
}

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a saved linear head: top-5 classes with probabilities.")

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Image files.")
    var images: [String]

    @Option(help: "Head saved by train-linear (head.safetensors).")
    var head: String

    @Option(help: "How many classes to show per image.")
    var top: Int = 5

    @Option(help: "Refuse images with more pixels than this.")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
        try Check.range(top, 1...1000, "--top")
        try Check.range(maxPixels, 1...ImageDecoder.maxPixelsLimit, "--max-pixels")
    }

    func run() throws {
        let loaded = try LoadedClassifier(path: head)
        let model = try modelOptions.load(quiet: true)
        try loaded.check(model: model, path: head)
        let extractor = try FeatureExtractor(model: model, preprocessing: loaded.recipe.preprocessing, batchSize: 8,
                                             lastLayers: loaded.recipe.blocks, maxPixels: maxPixels)
        let names = loaded.head.metadata.classNames
        var failures = 0
        try extractor.run(paths: images, onBatch: { batch in
            let out = batch.output
            var features = CachedFeatures(dim: out.dim, blocks: out.layers.count, backboneFingerprint: model.fingerprint)
            features.append(batch)
            let vectors = try features.vectors(loaded.recipe.tokens, blocks: loaded.recipe.blocks)
            let probabilities = try loaded.head.probabilities(features: vectors.values, count: out.batch)
            for (b, index) in batch.indices.enumerated() {
                let row = Array(probabilities[(b * names.count)..<((b + 1) * names.count)])
                let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
                say(images[index])
                for c in order.prefix(top) {
                    say(String(format: "  %6.2f%%  %@", 100 * row[c], names[c]))
                }
            }
        }, onSkip: { skip in
            failures += 1
            stderrPrint("error: \(skip.reason)")
        })
        if failures > 0 { throw ExitCode(1) }
    }
}

struct KNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "k-NN classification on L2-normalised CLS features (k = 10, 20, 100, 200; temperature 0.07).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var preprocess: PreprocessOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(parsing: .upToNextOption, help: "Neighbour counts.")
    var k: [Int] = [10, 20, 100, 200]

    @Option(help: "Softmax temperature of the votes.")
    var temperature: Float = 0.07

    @Option(help: "Folder for knn.json (default: print only).")
    var out: String?

    func validate() throws {
        guard !k.isEmpty else { throw ValidationError("--k needs at least one value") }
        for value in k { try Check.range(value, 1...10_000_000, "--k") }
        try Check.finite(temperature, 1e-4...100, "--temperature")
    }

    func run() throws {
        let preprocessing = try preprocess.preprocessing()
        let run = try out.map { try RunFolder($0, prefix: "knn", overwrite: true, guarding: nil) }
        defer { run?.close() }
        let folder = run?.url
        let model = try modelOptions.load()
        let (trainSet, valSet) = try dataOptions.load()
        let blocks = cachedBlocks(layers: 1, model: model)
        let cache = cacheOptions.cache
        let train = try SplitFeatures.extract(model: model, dataset: trainSet, preprocessing: preprocessing, blocks: blocks, cache: cache,
                                              batchSize: cacheOptions.extractBatchSize, maxPixels: preprocess.maxPixels, log: stderrPrint)
        let val = try SplitFeatures.extract(model: model, dataset: valSet, preprocessing: preprocessing, blocks: blocks, cache: cache,
                                            batchSize: cacheOptions.extractBatchSize, maxPixels: preprocess.maxPixels, log: stderrPrint)
        try reportSkipped(train.features.skipped, split: "train", folder: folder)
        try reportSkipped(val.features.skipped, split: "val", folder: folder)
        let knn = try KNNClassifier(trainFeatures: train.features.normalisedCLS(), trainLabels: train.labels, dim: model.config.hiddenSize,
                                    classCount: trainSet.classCount, ks: k, temperature: temperature)
        let results = try knn.evaluate(queries: val.features.normalisedCLS(), labels: val.labels, classNames: valSet.classNames)
        say("    k   top-1    top-5   balanced acc   macro F1")
        for r in results {
            let top5 = r.metrics.top5.map { String(format: "%6.2f%%", 100 * $0) } ?? "     -"
            say(String(format: "%5d  %6.2f%%  %@  %12.2f%%  %8.2f%%%@", r.k, 100 * r.metrics.top1, top5,
                         100 * r.metrics.balancedAccuracy, 100 * r.metrics.macroF1, r.effectiveK != r.k ? "  (k clamped to \(r.effectiveK))" : ""))
        }
        if let folder {
            try MetricsReport.writeJSON(results, to: folder.appendingPathComponent("knn.json").path)
            say("wrote \(folder.path)/knn.json")
        }
    }
}
