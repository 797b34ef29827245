import ArgumentParser
import CommandLineKit
import Training

/// The settings options of a trained dense task: without `--iters`, the steps are Meta's
/// passes over the training images (checked, before the data is read, as the most allowed).
protocol DenseSettingsOptions: SettingsOptions where Settings: DenseTrainingSettings {
    var iterations: Int? { get }
}

extension DenseSettingsOptions {
    static var flags: [String: String] { ["iterations": "iters", "learningRate": "lr", "gradientClip": "clip"] }

    func validate() throws { _ = try Self.checked(settings(trainImages: nil)) }

    /// The settings for `trainImages` training images (nil: not known yet).
    func settings(trainImages: Int?) throws -> Settings {
        var settings = try self.settings
        if iterations == nil {
            settings.iterations = trainImages.map { Settings.defaultIterations(images: $0, batchSize: settings.batchSize) } ?? 100_000_000
        }
        return settings
    }
}

/// The options of `SegmentationSettings`.
struct SegmentationOptions: DenseSettingsOptions {
    typealias Settings = SegmentationSettings

    @Option(name: .customLong("iters"), help: "Optimizer steps. Default: as many passes over the training images as Meta's 40,000 steps of 16 make over ADE20K (about 32), between 100 and 40,000.")
    var iterations: Int?

    @Option(help: "Training batch size.")
    var batchSize = Settings().batchSize

    @Option(name: .customLong("lr"), help: "AdamW learning rate.")
    var learningRate = Settings().learningRate

    @Option(help: "AdamW weight decay.")
    var weightDecay = Settings().weightDecay

    @Option(help: "Warm-up steps (default: 1500/40000 of --iters).")
    var warmup: Int?

    @Option(help: "Seed.")
    var seed = Settings().seed
}

/// The options of `DepthSettings` (the depth range is the shared `DepthRangeOptions`).
struct DepthOptions: DenseSettingsOptions {
    typealias Settings = DepthSettings

    @Option(name: .customLong("iters"), help: "Optimizer steps. Default: as many passes over the training pairs as Meta's 38,400 steps of 16 make over NYU (about 25), between 100 and 38,400.")
    var iterations: Int?

    @Option(help: "Training batch size.")
    var batchSize = Settings().batchSize

    @Option(name: .customLong("lr"), help: "AdamW peak learning rate (one-cycle schedule).")
    var learningRate = Settings().learningRate

    @Option(help: "AdamW weight decay.")
    var weightDecay = Settings().weightDecay

    @Option(name: .customLong("clip"), help: "Clip the total gradient norm to this.")
    var gradientClip = Settings().gradientClip

    @Option(help: "Warm-up steps of the one-cycle schedule (default: a third of --iters, as Meta's 12,800 of 38,400).")
    var warmup: Int?

    @OptionGroup var head: DepthHeadOptions

    @Option(help: "Seed.")
    var seed = Settings().seed
}

/// The options of `DepthHeadRecipe` besides the depth range.
struct DepthHeadOptions: ParsableArguments {
    @Option(help: "Depth bins.")
    var bins = DepthHeadRecipe().bins

    @Option(help: "Bins spread linearly or logarithmically over [--min-depth, --max-depth].")
    var binsStrategy = DepthHeadRecipe().binsStrategy

    @Option(help: "Bin weights from logits: linear (relu + 0.1, normalised), softmax or sigmoid.")
    var normStrategy = DepthHeadRecipe().normStrategy
}
