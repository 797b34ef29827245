import ArgumentParser
import CommandLineKit
import Heads

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

    @OptionGroup var probe: LinearProbeOptions

    @OptionGroup var selectionOptions: SelectionOptions

    @OptionGroup var runOptions: TrainingRunOptions

    func validate() throws {
        try Check.range(augment, LinearProbeSettings.Ranges.augmentedViews, "--augment")
    }

    func run() throws {
        if try features.extractShardIfAsked() { return }
        let start = try features.start(prefix: "linear", command: self, defaultTokens: .clsAvgpool, seed: probe.seed, runOptions: runOptions)
        defer { start.run.close() }
        let (run, train, val, tokens, blocks) = (start.run, start.train, start.val, start.tokens, start.blocks)
        let settings = try probe.settings
        let selection = selectionOptions.selection
        try run.update {
            $0.options = OptionRecord.values(of: self, resolved: ["tokens": tokens, "blocks": blocks, "lrs": settings.learningRates])
            $0.record(settings: settings)
        }
        say("training \(settings.learningRates.count) heads on \(train.count) x \(try train.features.vectors(tokens, blocks: blocks).width) features, \(train.classNames.count) classes; choosing on \(selectionOptions.description)")
        let augmented = augment > 0 ? try features.augmentedViews(of: train, views: augment, seed: settings.seed, run: run) : nil
        let saving = try run.stateSaving(inputs: "", every: runOptions.checkpointEvery, resume: runOptions.resume)
        var outcome = try LinearProbe.run(train: train, val: val, tokens: tokens, blocks: blocks, selection: selection,
                                          settings: settings, augmented: augmented, saving: saving, reporter: TerminalReporter.shared)
        outcome.head.metadata.extra["run_id"] = run.record.runID
        say(outcome.summary)
        let files = try outcome.write(to: run.staging(), dataName: features.dataName, record: run.record, maxPixels: features.imageOptions.maxPixels)
        say("")
        try run.publishAndSay(outputs: files)
    }
}

/// The options of `LinearProbeSettings`.
struct LinearProbeOptions: SettingsOptions {
    typealias Settings = LinearProbeSettings
    static let flags = ["learningRates": "lrs", "iterationsPerEpoch": "iters-per-epoch"]
    private static let defaults = Settings()

    @Option(help: "Epochs.")
    var epochs = defaults.epochs

    @Option(name: .customLong("iters-per-epoch"), help: "Optimizer steps per epoch (Meta: 1250, batches drawn from reshuffled passes); 0: one pass over the features.")
    var iterationsPerEpoch = defaults.iterationsPerEpoch

    @Option(help: "Training batch size.")
    var batchSize = defaults.batchSize

    @Option(name: .customLong("lrs"), parsing: .upToNextOption, help: "Base learning rates, comma-separated or repeated (scaled by batch/256). Default: Meta's 13, 1e-5 ... 0.1.")
    var learningRates: [CommaList<Float>] = []

    @Option(help: "sgd (momentum 0.9) or adamw.")
    var optimizer = defaults.optimizer

    @Option(help: "Weight decay.")
    var weightDecay = defaults.weightDecay

    @Option(help: "Linear warm-up epochs before the cosine decay.")
    var warmupEpochs = defaults.warmupEpochs

    @Option(help: "Seed for initialisation, shuffling and the hold-out split.")
    var seed = defaults.seed
}
