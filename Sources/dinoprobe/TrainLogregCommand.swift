import ArgumentParser
import CommandLineKit
import Heads

struct TrainLogreg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-logreg",
        abstract: "Logistic regression: Meta's protocol (L-BFGS softmax regression at 45 values of C), report metrics, save the head.",
        discussion: examples("train-logreg --data shapes --out runs/logreg", then: """
        The protocol of dinov3/eval/log_regression.py, fitted as scikit-learn's LogisticRegression(solver="lbfgs", \
        tol=1e-12, max_iter=1000) fits it, in float64: C = 10^linspace(-6, 5, 45), each fitted on train less a \
        stratified hold-out (--holdout) and scored there (or fitted on all of train and scored on val with \
        --select-on val); the highest top-1 wins, ties going to the smaller C; the chosen C is then refitted on \
        all of train. Features default to the CLS token, as Meta's. The run folder receives head.safetensors, \
        metrics.json, confusion.csv, confusion.png, path.json, predictions.csv (val), report.html, skipped-<split>.txt \
        (unreadable images, when there are any) and run.json. \
        The path takes minutes and keeps no checkpoint: --resume is refused.
        """))

    @OptionGroup var features: ProbeFeatureOptions

    @OptionGroup var logreg: LogisticRegressionOptions

    @OptionGroup var selectionOptions: SelectionOptions

    @OptionGroup var runOptions: TrainingRunOptions

    func validate() throws {
        if runOptions.resume { throw ValidationError("train-logreg keeps no checkpoint to resume from; run it again (with --overwrite)") }
    }

    func run() throws {
        if try features.extractShardIfAsked() { return }
        let start = try features.start(prefix: "logreg", command: self, defaultTokens: .cls, seed: logreg.seed, runOptions: runOptions)
        defer { start.run.close() }
        let (run, train, val, tokens, blocks) = (start.run, start.train, start.val, start.tokens, start.blocks)
        var settings = try logreg.settings
        settings.threads = features.modelOptions.threadCount
        try run.update { $0.record(settings: settings) }
        say("fitting \(settings.cValues.count) values of C on \(train.count) x \(try train.features.vectors(tokens, blocks: blocks).width) features, \(train.classNames.count) classes; choosing on \(selectionOptions.description)")
        var outcome = try LogisticRegressionProbe.run(train: train, val: val, tokens: tokens, blocks: blocks, selection: selectionOptions.selection,
                                                      settings: settings, reporter: TerminalReporter.shared)
        outcome.head.metadata.extra["run_id"] = run.record.runID
        if let warning = outcome.path.degenerateTieWarning(classes: train.classNames.count) { Console.err("warning: " + warning) }
        say(outcome.summary)
        let files = try outcome.writeRun(to: run.staging(), val: val, record: run.record, maxPixels: features.imageOptions.maxPixels)
        say("")
        try run.publishAndSay(outputs: files)
    }
}

/// The options of `LogisticRegressionSettings` (its `threads` follow --threads).
struct LogisticRegressionOptions: SettingsOptions {
    typealias Settings = LogisticRegressionSettings
    static let flags = ["cValues": "cs", "maxIterations": "max-iter", "gradientTolerance": "tol"]

    @Option(name: .customLong("cs"), parsing: .upToNextOption, help: "Values of C, comma-separated or repeated. Default: Meta's 45, 10^linspace(-6, 5, 45).")
    var cValues: [CommaList<Double>] = []

    @OptionGroup var solver: LBFGSOptions

    @Flag(inversion: .prefixedNo, help: "Start each C's fit from the previous C's solution (same optimum as Meta's fits from zero, faster).")
    var warmStart = Settings().warmStart

    @Option(help: "Seed for the hold-out split.")
    var seed = Settings().seed
}

/// The options of `LBFGSSettings` that the command line sets.
struct LBFGSOptions: ParsableArguments {
    @Option(name: .customLong("max-iter"), help: "L-BFGS iterations per fit at most (sklearn's max_iter; Meta: 1000).")
    var maxIterations = LBFGSSettings().maxIterations

    @Option(name: .customLong("tol"), help: "L-BFGS gradient tolerance (sklearn's tol; Meta: 1e-12).")
    var gradientTolerance = LBFGSSettings().gradientTolerance
}
