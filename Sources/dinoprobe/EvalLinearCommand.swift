import ArgumentParser
import CommandLineKit
import Datasets
import Foundation
import Support
import Training

struct EvalLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-linear",
        abstract: "Evaluate a saved linear head on a data set's val split (features extracted with the head's own recipe).",
        discussion: examples("eval-linear --head runs/linear/head.safetensors --data shapes --out runs/eval"))

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: ClassificationDataOptions
    @OptionGroup var cacheOptions: CacheOptions

    @Option(help: "Head saved by train-linear (head.safetensors).", completion: .file(extensions: ["safetensors"]))
    var head: String

    @Option(help: "Which split to evaluate.")
    var split: DatasetSplit = .val

    @OptionGroup var output: OutputOptions

    @OptionGroup var pixelLimit: PixelLimitOption

    func run() throws {
        let saved = try SavedClassifier(path: head)
        let run = try output.openIfGiven(prefix: "eval-linear", guarding: ["metrics.json", "predictions.csv"], command: self)
        defer { run?.close() }
        // A local data set is read first; the weights before a download: a missing checkpoint should not cost one.
        let local = try dataOptions.loadLocal()
        let model = try modelOptions.load()
        try saved.check(model: model)
        let (train, val) = try local ?? dataOptions.load(reporter: TerminalReporter.shared)
        let dataset = split == .val ? val : train
        try run?.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.data = RunRecord.DataRecord(root: dataset.root, splits: [split.rawValue: .init(paths: dataset.samples.map(\.path))])
        }
        var features = try saved.features(of: dataset, model: model, cache: cacheOptions.cache, backboneID: modelOptions.displayID,
                                          batchSize: { cacheOptions.batchSize(model, height: saved.recipe.preprocessing.size, layers: $0) },
                                          maxPixels: pixelLimit.maxPixels, reporter: TerminalReporter.shared)
        try reportSkipped(features.skipped, split: split.rawValue, folder: run)
        features.paths = dataOptions.spelled(features.paths)
        let (metrics, predictions) = try saved.evaluate(features)
        say(metrics.table())
        if let run {
            let files = try SavedClassifier.write(metrics: metrics, predictions: predictions, title: "Linear head on \(split.rawValue)",
                                                  to: run.staging())
            try run.publishAndSay(outputs: files)
        }
    }
}

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a saved linear head: top classes with probabilities.",
        discussion: examples("classify photo.jpg --head runs/linear/head.safetensors", "classify photos/ --head runs/linear/head.safetensors --top 3 --out runs/classify"))

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Image files, or folders searched recursively for images.", completion: .file())
    var images: [String]

    @Option(help: "Head saved by train-linear (head.safetensors).", completion: .file(extensions: ["safetensors"]))
    var head: String

    @Option(help: "How many classes to show per image.")
    var top: Int = 5

    @OptionGroup var output: OutputOptions

    @OptionGroup var pixelLimit: PixelLimitOption

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
        try Check.range(top, 1...1000, "--top")
    }

    func run() throws {
        let saved = try SavedClassifier(path: head)
        let listing = try ImageFiles.expand(images)
        let run = try output.openIfGiven(prefix: "classify", guarding: ["predictions.csv"], command: self)
        defer { run?.close() }
        let model = try modelOptions.load(quiet: true)
        try saved.check(model: model)
        let (predictions, skipped) = try saved.classify(listing.images, model: model, top: top, maxPixels: pixelLimit.maxPixels)
        saved.lines(predictions).forEach { say($0) }
        if let run {
            try run.update {
                $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
                $0.data = RunRecord.DataRecord(root: FileManager.default.currentDirectoryPath, splits: ["inputs": .init(paths: listing.images)])
            }
            try predictions.write(to: run.staging() + "/predictions.csv")
            try reportSkipped(listing.problems + skipped, split: "inputs", folder: run)
            try run.publishAndSay(outputs: ["predictions.csv"], toErr: true)
        }
        for s in listing.problems + skipped { Console.err("error: \(s)") }
        if !(listing.problems + skipped).isEmpty { throw ExitCode(1) }
    }
}

struct KNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "k-NN classification on L2-normalised CLS features (k = 10, 20, 100, 200; temperature 0.07).",
        discussion: examples("knn --data shapes --out runs/knn", "knn --data imagenette --k 10,20"))

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: ClassificationDataOptions
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var cacheOptions: CacheOptions

    @OptionGroup var knn: KNNOptions
    @OptionGroup var output: OutputOptions

    @OptionGroup var sharding: ShardChoiceOptions

    func run() throws {
        let settings = try knn.settings
        let preprocessing = try imageOptions.preprocessing()
        if try sharding.extractCacheParts(model: modelOptions, images: imageOptions, cache: cacheOptions, data: dataOptions,
                                          storedLayers: { model, _ in KNNTask.storedLayers(depth: model.config.numHiddenLayers) }) {
            return
        }
        let run = try output.openIfGiven(prefix: "knn", guarding: ["knn.json"], command: self)
        defer { run?.close() }
        let local = try dataOptions.loadLocal()
        let model = try modelOptions.load()
        let (trainSet, valSet) = try local ?? dataOptions.load(reporter: TerminalReporter.shared)
        try run?.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.record(settings: settings)
            $0.data = .classification(train: trainSet, val: valSet)
        }
        var (train, val) = try cacheOptions.splits(train: trainSet, val: valSet, model: model, backboneID: modelOptions.displayID,
                                                   preprocessing: preprocessing, layers: KNNTask.storedLayers(depth: model.config.numHiddenLayers), maxPixels: imageOptions.maxPixels)
        try reportSkipped((train, val), folder: run)
        val.paths = dataOptions.spelled(val.paths)
        let (scores, results) = try KNNTask.evaluate(train: train, val: val, settings: settings)
        say(KNNTask.table(results))
        if let run {
            let files = try KNNTask.write(scores: scores, results: results, val: val, to: run.staging())
            try run.publishAndSay(outputs: files)
        }
    }
}

/// The options of `KNNSettings`.
struct KNNOptions: SettingsOptions {
    typealias Settings = KNNSettings

    @Option(parsing: .upToNextOption, help: "Neighbour counts, comma-separated or repeated.")
    var k = [CommaList(Settings().k)]

    @Option(help: "Softmax temperature of the votes.")
    var temperature = Settings().temperature
}
