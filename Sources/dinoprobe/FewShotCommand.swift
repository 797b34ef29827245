import ArgumentParser
import CommandLineKit
import Heads
import Training

struct FewShotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fewshot",
        abstract: "Few-shot evaluation: k images per class (several seeded draws), each scored with the linear grid, logistic regression and k-NN; mean and std per k.",
        discussion: examples("fewshot --data shapes --shots 1,5 --tries 3 --out runs/fewshot", then: """
        Meta's sampling: for try t, a generator seeded with t keeps the first k of a random permutation of \
        each class (a fraction below 1 keeps that share of each class, at least one image). The linear grid \
        chooses its rate on val, as Meta's few-shot runs do; logistic regression (CLS, Meta's 45 values of C) \
        chooses C on val likewise. Writes fewshot.json, report.html and run.json.
        """))

    @OptionGroup var features: ProbeFeatureOptions

    @OptionGroup var fewShot: FewShotOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let settings = try fewShot.settings
        if try features.extractShardIfAsked() { return }
        let run = try output.open(prefix: "fewshot", guarding: ["fewshot.json"], command: self)
        defer { run.close() }
        try run.update { $0.record(settings: settings) }
        let tokens = features.tokens?.featureTokens ?? .clsAvgpool
        let (train, val) = try features.loadSplits(choice: features.probeBlocks, seed: settings.seed, run: run)
        say("few-shot on \(train.count) train / \(val.count) val images, \(train.classNames.count) classes: shots \(settings.shots.map { String(format: "%g", $0) }.joined(separator: ", ")), \(settings.tries) tries each")
        let scores = try FewShot.run(train: train, val: val, shots: settings.shots, tries: settings.tries, tokens: tokens, settings: settings.linearProbe,
                                     logistic: settings.logreg ? LogisticRegressionSettings() : nil, ks: settings.k, progress: { Console.err($0) })
        say(FewShot.table(scores))
        let files = try FewShotTask.write(scores, record: run.record, dataName: features.dataName, tries: settings.tries, to: run.staging())
        try run.publishAndSay(outputs: files)
    }
}

/// The options of `FewShotSettings`.
struct FewShotOptions: SettingsOptions {
    typealias Settings = FewShotSettings
    static let flags = ["iterations": "iters"]

    @Option(parsing: .upToNextOption, help: "Images per class, comma-separated or repeated; a value below 1 is a share of each class.")
    var shots = [CommaList(Settings().shots)]

    @Option(help: "Seeded draws per shot count.")
    var tries = Settings().tries

    @Option(name: .customLong("iters"), help: "Optimizer steps per try (the grid's 13 rates trained together).")
    var iterations = Settings().iterations

    @Option(help: "Training batch size (capped at the subset's size).")
    var batchSize = Settings().batchSize

    @Option(parsing: .upToNextOption, help: "k-NN neighbour counts, comma-separated or repeated (clamped to the subset).")
    var k = [CommaList(Settings().k)]

    @Flag(inversion: .prefixedNo, help: "Also score logistic regression (Meta's 45 values of C per try).")
    var logreg = Settings().logreg

    @Option(help: "Seed of the heads' initialisation and shuffling (each try adds its index).")
    var seed = Settings().seed
}
