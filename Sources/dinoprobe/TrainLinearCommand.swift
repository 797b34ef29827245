import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Support
import Training

struct TrainLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-linear",
        abstract: "Linear probing: extract (cached) features, train Meta's learning-rate grid, report metrics, save the best head.",
        discussion: examples("train-linear --data shapes --out runs/linear", "train-linear --data imagenette --blocks 4 --select-on val", then: """
        All heads (one per learning rate, scaled by batch/256) train together on the same batches. The \
        best rate is chosen on a held-out slice of train (--holdout), or on val with --select-on val \
        (the optimistic paper protocol). The run folder receives head.safetensors, metrics.json, \
        confusion.csv, confusion.png, grid.json, train_log.csv, loss_curves.png, predictions.csv (val), \
        report.html, skipped-<split>.txt (unreadable images, when there are any) and run.json.
        """))

    @OptionGroup var features: ProbeFeatureOptions

    @Option(help: "Also cache N augmented views of every training image (Meta's training transform: random resized crop + flip) and fit the heads on them; selection and val use the plain images.")
    var augment: Int = 0

    @Option(help: "Epochs.")
    var epochs: Int = 10

    @Option(help: "Optimizer steps per epoch (Meta: 1250, batches drawn from reshuffled passes); 0: one pass over the features.")
    var itersPerEpoch: Int = 1250

    @Option(help: "Training batch size.")
    var batchSize: Int = 128

    @Option(parsing: .upToNextOption, help: "Base learning rates, comma-separated or repeated (scaled by batch/256). Default: Meta's 13, 1e-5 ... 0.1.")
    var lrs: [CommaList<Float>] = []

    @Option(help: "sgd (momentum 0.9) or adamw.")
    var optimizer: ProbeOptimizer = .sgd

    @Option(help: "Weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Linear warm-up epochs before the cosine decay.")
    var warmupEpochs: Double = 0

    @Option(help: "Seed for initialisation, shuffling and the hold-out split.")
    var seed: UInt64 = 0

    @OptionGroup var selectionOptions: SelectionOptions

    @OptionGroup var runOptions: TrainingRunOptions

    func validate() throws {
        try Check.range(epochs, LinearProbeSettings.Ranges.epochs, "--epochs")
        try Check.range(itersPerEpoch, LinearProbeSettings.Ranges.iterationsPerEpoch, "--iters-per-epoch")
        try Check.range(epochs * max(itersPerEpoch, 1), LinearProbeSettings.Ranges.totalSteps, "--epochs x --iters-per-epoch")
        try Check.range(batchSize, LinearProbeSettings.Ranges.batchSize, "--batch-size")
        for rate in lrs.flattened() { try Check.finite(rate, LinearProbeSettings.Ranges.learningRate, "--lrs") }
        try Check.finite(weightDecay, LinearProbeSettings.Ranges.weightDecay, "--weight-decay")
        try Check.finite(warmupEpochs, 0...Double(epochs), "--warmup-epochs")
        try Check.range(augment, LinearProbeSettings.Ranges.augmentedViews, "--augment")
    }

    func run() throws {
        if try features.extractShardIfAsked() { return }
        let start = try features.start(prefix: "linear", command: self, defaultTokens: .clsAvgpool, seed: seed, runOptions: runOptions)
        defer { start.run.close() }
        let (run, train, val, tokens, blocks) = (start.run, start.train, start.val, start.tokens, start.blocks)
        var settings = LinearProbeSettings()
        let rates = lrs.flattened()
        if !rates.isEmpty { settings.learningRates = rates }
        settings.epochs = epochs
        settings.iterationsPerEpoch = itersPerEpoch == 0 ? nil : itersPerEpoch
        settings.batchSize = batchSize
        settings.optimizer = optimizer
        settings.weightDecay = weightDecay
        settings.warmupEpochs = warmupEpochs
        settings.seed = seed
        let selection = selectionOptions.selection
        try run.update {
            $0.options = OptionRecord.values(of: self, resolved: ["tokens": tokens, "blocks": blocks, "lrs": settings.learningRates])
        }
        say("training \(settings.learningRates.count) heads on \(train.count) x \(try train.features.vectors(tokens, blocks: blocks).width) features, \(train.classNames.count) classes; choosing on \(selectionOptions.description)")
        let augmented = augment > 0 ? try features.augmentedViews(of: train, views: augment, seed: seed, run: run) : nil
        let saving = try run.stateSaving(inputs: "", every: runOptions.checkpointEvery, resume: runOptions.resume)
        var outcome = try LinearProbe.run(train: train, val: val, tokens: tokens, blocks: blocks, selection: selection,
                                          settings: settings, augmented: augmented, saving: saving, reporter: TerminalReporter.shared)
        outcome.head.metadata.extra["run_id"] = run.record.runID
        say(outcome.table)
        say("\nval metrics of the best head (lr \(outcome.grid.learningRates[outcome.grid.bestIndex]) x \(batchSize)/256):")
        say(outcome.valMetrics.table())
        let files = try outcome.write(to: run.staging(), dataName: features.dataName, record: run.record, maxPixels: features.imageOptions.maxPixels)
        say("")
        try run.publishAndSay(outputs: files)
    }
}
