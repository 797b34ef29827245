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

struct TrainDepth: ParsableCommand, DenseTrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-depth",
        abstract: "Linear depth (Meta's NYU recipe): cache patch features, train the depth head (BN + 1x1 conv to depth bins, SigLoss), report rmse and the other depth metrics on val.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DepthDataOptions
    @OptionGroup var range: DepthRangeOptions
    @OptionGroup var cacheOptions: CacheOptions

    @OptionGroup var training: DepthOptions

    @OptionGroup var store: DenseStoreOptions

    @OptionGroup var inferenceOptions: InferenceOptions

    @Flag(help: "Evaluate without flip test-time augmentation (default: the mean of each image's and its mirror's prediction, as Meta).")
    var noTTA = false

    @OptionGroup var pixelLimit: PixelLimitOption
    @OptionGroup var runOptions: TrainingRunOptions

    func validate() throws {
        guard range.minDepth > 0 else { throw ValidationError("--min-depth must be above 0: the head's bins start there") }
    }

    func run() throws {
        if try extractShardIfAsked() { return }
        let run = try runOptions.open(prefix: "depth", command: self)
        defer { run.close() }
        let train = try loadTrain(folder: run)
        let val = try DenseSplits.optionalVal(reporter: TerminalReporter.shared) { try dataOptions.loadValid(.val, scale: range.depthScale, folder: run) }
        // The data first (cheap, and a mistake there must not cost a backbone load), then the model.
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model)
        say("data: \(train.count) train\(val.map { " / \($0.count) val" } ?? "") pairs (\(train.layout.rawValue) layout, \(range.depthScale) per metre)")
        if let note = range.evalCrop.note(layout: train.layout) { Console.err(note) }
        let outputs = try trainAndFinish(DepthTraining(settings: try settings(trainPairs: train.count), depthScale: range.depthScale), "a depth head",
                                         evaluation: DepthHeadEvaluation(scoring: try range.evaluation(), flip: !noTTA), evaluationBatch: 8,
                                         passes: training.iterations == nil ? "\(train.count) pairs" : nil, run: run, model: model,
                                         train: train, val: val, recipe: recipe, augment: augmented)
        try run.publish(outputs: outputs)
        say("saved \(run.path)/\(outputs.joined(separator: ", ")), run.json")
    }
}

extension TrainDepth {
    /// The recipe's settings from the options (Meta's passes over the data when --iters is not given).
    func settings(trainPairs: Int) throws -> DepthSettings {
        var s = try training.settings(trainImages: trainPairs)
        (s.head.minDepth, s.head.maxDepth) = (range.minDepth, range.maxDepth)
        return s
    }

    var augmentation: DepthAugmentation { DepthAugmentation(size: store.size) }
    var seed: UInt64 { training.seed }
    func loadTrain(folder: RunFolder?) throws -> DepthDataset { try dataOptions.loadValid(.train, scale: range.depthScale, folder: folder) }
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
    func loadValid(_ split: DatasetSplit, scale: Float, folder: RunFolder?) throws -> DepthDataset {
        try DepthDataset.load(root: data, split: split, layout: layout, depthScale: scale).usable(split, of: data, reporter: TerminalReporter.shared) {
            try reportSkipped($0, split: split.rawValue, folder: folder)
        }
    }
}
