import Evaluation
import Foundation
import Support

/// The optimiser of a linear probe.
public enum ProbeOptimizer: String, Sendable, Codable, CaseIterable {
    case sgd, adamw
}

/// Settings of Meta's linear-probe protocol on cached features (docs/protocols.md, section 2).
public struct LinearProbeSettings: Sendable, Codable, Equatable {
    /// Base learning rates, before scaling by batch/256 (default: Meta's 13).
    public var learningRates: [Float] = LinearClassifierGrid.metaLearningRates
    public var epochs = 10
    /// Optimizer steps per epoch; 0: one pass over the training features.
    public var iterationsPerEpoch = 1250
    public var batchSize = 128
    public var optimizer = ProbeOptimizer.sgd
    public var weightDecay: Float = 0
    /// Linear warm-up, in epochs (may be fractional), before the cosine decay to 0.
    public var warmupEpochs: Double = 0
    public var seed: UInt64 = 0

    public init() {}

    /// The learning rates actually used: base * batch / 256.
    public var scaledLearningRates: [Float] { learningRates.map { $0 * Float(batchSize) / 256 } }

    /// Throws unless every value can run (positive counts, finite positive rates).
    public func check() throws {
        try require(epochs > 0 && batchSize > 0 && iterationsPerEpoch >= 0, "probe settings", "epochs, batch size and steps per epoch must be positive")
        try require(!learningRates.isEmpty && learningRates.allSatisfy { $0.isFinite && $0 > 0 }, "learning rates", "give positive finite rates")
        try require(weightDecay.isFinite && weightDecay >= 0 && warmupEpochs.isFinite && warmupEpochs >= 0, "probe settings",
                    "weight decay and warm-up must be finite and non-negative")
    }
}

/// Where the best learning rate is chosen.
public enum ProbeSelection: Sendable, Equatable, Codable {
    /// On a stratified fraction of train, held out (the honest protocol).
    case holdout(fraction: Double)
    /// On the val split itself (the optimistic protocol of the papers).
    case val

    public var name: String { self == .val ? "val" : "holdout" }
}

/// The outcome of training the grid: every rate's score on the selection split and the winner.
public struct GridResult: Sendable, Codable {
    public var learningRates: [Float]
    public var scaledLearningRates: [Float]
    /// Top-1 (0...1) of each head on the selection split.
    public var selectionAccuracy: [Float]
    /// Top-1 of each head on the reported split (for information; not used to choose).
    public var reportedAccuracy: [Float]?
    /// "holdout" (part of train) or "val" (the optimistic paper protocol).
    public var selectedOn: String
    public var bestIndex: Int
    public var finalLosses: [Float]
    /// Cross-entropy of each head on the selection split (breaks ties in top-1).
    public var selectionLoss: [Float]
    /// For each head, the step at which its loss became NaN or infinite (nil: it trained
    /// normally). Diverged heads are never chosen.
    public var divergedAtStep: [Int?]
    public var steps: Int
    public var seconds: Double
}

/// What a linear probe produced: the grid's scores, the chosen head (with its recipe, classes
/// and backbone in its metadata) and its metrics on val.
public struct LinearProbeOutcome: Sendable {
    public var grid: GridResult
    public var head: LinearClassifier
    public var valMetrics: ClassificationMetrics
    public var settings: LinearProbeSettings
    public var recipe: FeatureRecipe
    public var trainSamples: Int
    public var selectionSamples: Int
    public var valSamples: Int
    /// Every step's learning rate and loss, per head.
    public var log: TrainingLog
    /// The chosen head's predictions on every val image.
    public var valPredictions: ClassificationPredictions

    /// The grid table: every rate with its scores, the chosen one marked.
    public var table: String { LinearProbe.table(grid) }

    /// What train-linear prints: the grid table, then the chosen head's val metrics.
    public var summary: String {
        table + "\n\nval metrics of the best head (lr \(grid.learningRates[grid.bestIndex]) x \(settings.batchSize)/256):\n" + valMetrics.table()
    }
}

/// Meta's linear-probe protocol: one head per learning rate, all trained together on the same
/// shuffled batches (one GEMM for all heads), cosine schedule, best head chosen on a selection
/// split, then scored on val.
public enum LinearProbe {
    /// Optimizer steps the settings give for `count` training samples.
    public static func totalSteps(samples count: Int, settings s: LinearProbeSettings) -> Int {
        (s.iterationsPerEpoch > 0 ? s.iterationsPerEpoch : Int((Double(count) / Double(max(s.batchSize, 1))).rounded(.up))) * s.epochs
    }

    /// The whole protocol on two feature splits: features of `tokens` over the last `blocks`
    /// blocks, the grid trained on train (less the hold-out, with `.holdout`), the best head
    /// chosen on the selection split and scored on val. The head's metadata records the recipe,
    /// the backbone, the classes and the learning rate, so dinoprobe can use it on new images.
    public static func run(train: FeatureSplit, val: FeatureSplit, tokens: FeatureTokens = .clsAvgpool, blocks: Int = 1,
                           selection: ProbeSelection = .holdout(fraction: 0.1), settings: LinearProbeSettings = LinearProbeSettings(),
                           augmented: AugmentedViews? = nil, saving: StateSaving? = nil,
                           reporter: Reporter = SilentReporter()) throws -> LinearProbeOutcome {
        let inputs = try ProbeInputs(train: train, val: val, tokens: tokens, blocks: blocks, selection: selection, seed: settings.seed,
                                     augmented: augmented)
        let (fitting, choosing, valRows, recipe, metadata) = (inputs.fitting, inputs.choosing, inputs.val, inputs.recipe, inputs.metadata)
        var (grid, result, log) = try self.train(fitting, selection: choosing, classes: train.classNames.count, settings: settings,
                                                 metadata: metadata, saving: saving, reporter: reporter)
        result.selectedOn = selection.name
        if case .holdout = selection { result.reportedAccuracy = try grid.accuracies(features: valRows.values, labels: valRows.labels) }
        let head = try grid.head(at: result.bestIndex)
        let metrics = try ClassificationMetrics(scores: head.logits(features: valRows.values, count: valRows.count),
                                                labels: valRows.labels, classNames: train.classNames)
        let predictions = try ClassificationPredictions(paths: val.paths, probabilities: head.probabilities(features: valRows.values, count: valRows.count),
                                                        labels: valRows.labels, classNames: train.classNames)
        return LinearProbeOutcome(grid: result, head: head, valMetrics: metrics, settings: settings, recipe: recipe,
                                  trainSamples: fitting.count, selectionSamples: choosing.count, valSamples: valRows.count, log: log,
                                  valPredictions: predictions)
    }

    /// Trains the grid on `train` and scores every head on `selection`.
    /// With `saving`, the loop's whole state is saved as it goes, and a run resumed from a saved
    /// state ends with exactly the grid an uninterrupted run gives.
    public static func train(_ train: LabelledFeatures, selection: LabelledFeatures, classes: Int,
                             settings s: LinearProbeSettings, metadata: HeadMetadata, saving: StateSaving? = nil,
                             reporter: Reporter = SilentReporter()) throws
        -> (grid: LinearClassifierGrid, result: GridResult, log: TrainingLog) {
        try require(train.count > 0 && selection.count > 0, "linear probe",
                    "\(train.count) training and \(selection.count) selection samples; both must be non-empty")
        try s.check()
        try require(train.values.allSatisfy { $0.isFinite } && selection.values.allSatisfy { $0.isFinite }, "features",
                    "they hold NaN or infinite values and cannot be trained on")
        let start = Date()
        var grid = try LinearClassifierGrid(dim: train.width, classes: classes, learningRates: s.scaledLearningRates,
                                            seed: s.seed, metadata: metadata)
        let total = totalSteps(samples: train.count, settings: s)
        let perEpoch = total / s.epochs
        var loop = try TrainingLoop(name: "linear-probe",
                                    settings: ProbeIdentity(settings: s, classes: classes, data: saving == nil ? "" : fingerprint(train, selection)),
                                    steps: total, batchSize: s.batchSize, seed: s.seed,
                                    schedule: LearningRateSchedule(totalSteps: total, warmupSteps: Int((s.warmupEpochs * Double(perEpoch)).rounded())),
                                    learningRates: grid.learningRates, series: s.learningRates.map { "\($0)" }, saving: saving)
        loop.note = { String(format: "epoch %d/%d, mean loss %.4f", ($0.step - 1) / perEpoch + 1, s.epochs, $0.meanLoss) }
        let batch = { (indices: [Int]) in train.rows(indices) }
        let outcome: TrainingOutcome
        switch s.optimizer {
        case .sgd:
            var sgd = SGD(momentum: 0.9, weightDecay: s.weightDecay)
            outcome = try loop.run(&grid, optimizer: &sgd, samples: train.count, batch: batch, reporter: reporter)
        case .adamw:
            var adamw = AdamW(weightDecay: s.weightDecay)
            outcome = try loop.run(&grid, optimizer: &adamw, samples: train.count, batch: batch, reporter: reporter)
        }
        let (diverged, losses, log) = (outcome.divergedAtStep, outcome.finalLosses, outcome.log)
        let scores = try grid.accuracies(features: selection.values, labels: selection.labels)
        // Highest top-1 wins; ties go to the lower cross-entropy on the selection split. Diverged
        // heads (and any whose selection loss is not finite) are out.
        let selectionLoss = try grid.lossesAndGradients(features: selection.values, labels: selection.labels).losses
        let eligible = scores.indices.filter { diverged[$0] == nil && selectionLoss[$0].isFinite }
        guard var best = eligible.first else {
            throw HeadError.diverged("every head's loss on the selection split is NaN or infinite; lower the learning rates")
        }
        for i in eligible where scores[i] > scores[best] || (scores[i] == scores[best] && selectionLoss[i] < selectionLoss[best]) {
            best = i
        }
        let result = GridResult(learningRates: s.learningRates, scaledLearningRates: s.scaledLearningRates,
                                selectionAccuracy: scores, reportedAccuracy: nil, selectedOn: "holdout",
                                bestIndex: best, finalLosses: losses, selectionLoss: selectionLoss, divergedAtStep: diverged,
                                steps: total, seconds: Date().timeIntervalSince(start))
        return (grid, result, log)
    }

    /// What a saved probe state must agree on to be resumed.
    private struct ProbeIdentity: Encodable {
        let settings: LinearProbeSettings
        let classes: Int
        let data: String
    }

    /// A fingerprint of the training and selection rows (values and labels).
    private static func fingerprint(_ train: LabelledFeatures, _ selection: LabelledFeatures) -> String {
        var h = FNV1a()
        for part in [train, selection] {
            part.values.withUnsafeBytes { h.combine($0) }
            part.labels.withUnsafeBytes { h.combine($0) }
        }
        return h.hexDigest
    }

    /// The grid table: every rate with its scores, the chosen one marked.
    public static func table(_ r: GridResult) -> String {
        var lines = ["  lr (base)   lr (scaled)  \(r.selectedOn) top-1  \(r.selectedOn) loss\(r.reportedAccuracy != nil ? "   val top-1" : "")"]
        for i in r.learningRates.indices {
            if let step = r.divergedAtStep[i] {
                lines.append(String(format: "  %-10g  %-11.4g  diverged at step %d (not eligible)", r.learningRates[i], r.scaledLearningRates[i], step))
                continue
            }
            var line = String(format: "  %-10g  %-11.4g  %9.2f%%  %11.4f", r.learningRates[i], r.scaledLearningRates[i],
                              100 * r.selectionAccuracy[i], r.selectionLoss[i])
            if let v = r.reportedAccuracy { line += String(format: "   %8.2f%%", 100 * v[i]) }
            if i == r.bestIndex { line += "   <- best" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
