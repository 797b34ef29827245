import ArgumentParser
import CommandLineKit
import Evaluation
import Foundation
import Heads
import Support
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

    @Option(parsing: .upToNextOption, help: "Images per class, comma-separated or repeated; a value below 1 is a share of each class.")
    var shots: [CommaList<Double>] = [CommaList(argument: "1,2,5,10")!]

    @Option(help: "Seeded draws per shot count.")
    var tries: Int = 5

    @Option(help: "Optimizer steps per try (the grid's 13 rates trained together).")
    var iters: Int = 1250

    @Option(help: "Training batch size (capped at the subset's size).")
    var batchSize: Int = 128

    @Option(parsing: .upToNextOption, help: "k-NN neighbour counts, comma-separated or repeated (clamped to the subset).")
    var k: [CommaList<Int>] = [CommaList(argument: "20")!]

    @Flag(help: "Skip logistic regression (Meta's 45 values of C per try).")
    var noLogreg = false

    @Option(help: "Seed of the heads' initialisation and shuffling (each try adds its index).")
    var seed: UInt64 = 0

    @Option(help: "Run folder (default runs/fewshot-DATE).", completion: .directory)
    var out: String?

    @OptionGroup var replacing: OverwriteOption

    func validate() throws {
        guard !shots.flattened().isEmpty else { throw ValidationError("--shots needs at least one value") }
        for s in shots.flattened() { try Check.finite(s, FewShotTask.Ranges.shots, "--shots") }
        try Check.range(tries, FewShotTask.Ranges.tries, "--tries")
        try Check.range(iters, FewShotTask.Ranges.iterations, "--iters")
        try Check.range(batchSize, FewShotTask.Ranges.batchSize, "--batch-size")
        for value in k.flattened() { try Check.range(value, KNNTask.Ranges.k, "--k") }
    }

    func run() throws {
        if try features.extractShardIfAsked() { return }
        let run = try RunFolder.open(out, prefix: "fewshot", overwrite: replacing.overwrite, guarding: ["fewshot.json"], command: self)
        defer { run.close() }
        let tokens = features.tokens?.featureTokens ?? .clsAvgpool
        let (train, val) = try features.loadSplits(choice: LayerChoice(layers: features.layers.flattened(), blocks: features.blocks),
                                                   seed: seed, run: run)
        var settings = LinearProbeSettings()
        (settings.epochs, settings.iterationsPerEpoch, settings.batchSize, settings.seed) = (1, iters, batchSize, seed)
        let list = shots.flattened()
        say("few-shot on \(train.count) train / \(val.count) val images, \(train.classNames.count) classes: shots \(list.map { String(format: "%g", $0) }.joined(separator: ", ")), \(tries) tries each")
        let scores = try FewShot.run(train: train, val: val, shots: list, tries: tries, tokens: tokens, settings: settings,
                                     logistic: noLogreg ? nil : LogisticRegressionSettings(), ks: k.flattened(), progress: { Console.err($0) })
        say(FewShot.table(scores))
        let files = try FewShotTask.write(scores, record: run.record, dataName: features.dataName, tries: tries, to: run.staging())
        try run.publishAndSay(outputs: files)
    }
}
