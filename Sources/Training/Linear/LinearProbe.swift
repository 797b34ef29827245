import Foundation
import Heads
import Support

/// The optimiser of a linear probe.
public enum ProbeOptimizer: String, Sendable, Codable, CaseIterable {
    case sgd, adamw
}

/// Settings of Meta's linear-probe protocol on cached features (reference doc section 4).
public struct LinearProbeSettings: Sendable, Codable {
    /// Base learning rates, before scaling by batch/256 (default: Meta's 13).
    public var learningRates: [Float] = LinearClassifierGrid.metaLearningRates
    public var epochs = 10
    /// Optimizer steps per epoch; nil: one pass over the training features.
    public var iterationsPerEpoch: Int?
    public var batchSize = 128
    public var optimizer = ProbeOptimizer.sgd
    public var weightDecay: Float = 0
    /// Linear warm-up, in epochs (may be fractional), before the cosine decay to 0.
    public var warmupEpochs: Double = 0
    public var seed: UInt64 = 0

    public init() {}

    /// The learning rates actually used: base * batch / 256.
    public var scaledLearningRates: [Float] { learningRates.map { $0 * Float(batchSize) / 256 } }
}

/// Labelled feature vectors [count, width].
public struct LabelledFeatures: Sendable {
    public var values: [Float]
    public var labels: [Int]
    public var width: Int
    public var count: Int { labels.count }

    public init(values: [Float], labels: [Int], width: Int) {
        self.values = values
        self.labels = labels
        self.width = width
    }

    /// The rows at `indices`.
    public func rows(_ indices: [Int]) -> LabelledFeatures {
        var v = [Float](repeating: 0, count: indices.count * width)
        v.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { src in
                for (r, i) in indices.enumerated() {
                    (out.baseAddress! + r * width).update(from: src.baseAddress! + i * width, count: width)
                }
            }
        }
        return LabelledFeatures(values: v, labels: indices.map { labels[$0] }, width: width)
    }

    /// A stratified split: about `fraction` of each class (at least one sample of every class
    /// that has two or more) goes to the second part. Deterministic for a seed.
    public func stratifiedSplit(fraction: Double, seed: UInt64) -> (keep: [Int], holdout: [Int]) {
        var random = SeededRandom(seed: seed ^ 0x5EED_0F_F00D)
        var byClass: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { byClass[l, default: []].append(i) }
        var keep: [Int] = [], holdout: [Int] = []
        for label in byClass.keys.sorted() {
            var members = byClass[label]!
            random.shuffle(&members)
            let n = members.count < 2 ? 0 : max(1, Int((Double(members.count) * fraction).rounded()))
            holdout += members.prefix(n)
            keep += members.dropFirst(n)
        }
        return (keep.sorted(), holdout.sorted())
    }
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

/// Meta's linear-probe protocol: one head per learning rate, all trained together on the same
/// shuffled batches (one GEMM for all heads), cosine schedule, best head chosen on a selection split.
public enum LinearProbe {
    /// Optimizer steps the settings give for `count` training samples.
    public static func totalSteps(samples count: Int, settings s: LinearProbeSettings) -> Int {
        (s.iterationsPerEpoch ?? Int((Double(count) / Double(max(s.batchSize, 1))).rounded(.up))) * s.epochs
    }

    /// Trains the grid on `train` and scores every head on `selection`.
    /// `progress` receives (step, total steps, epoch, mean loss over heads).
    public static func train(_ train: LabelledFeatures, selection: LabelledFeatures, classes: Int,
                             settings s: LinearProbeSettings, metadata: HeadMetadata,
                             progress: (Int, Int, Int, Float) -> Void = { _, _, _, _ in }) throws -> (grid: LinearClassifierGrid, result: GridResult) {
        guard train.count > 0, selection.count > 0 else {
            throw TrainingError.badOption("linear probe: \(train.count) training and \(selection.count) selection samples; both must be non-empty")
        }
        guard s.epochs > 0, s.batchSize > 0, !s.learningRates.isEmpty, s.learningRates.allSatisfy({ $0.isFinite && $0 > 0 }),
              s.weightDecay.isFinite, s.weightDecay >= 0, s.warmupEpochs.isFinite, s.warmupEpochs >= 0 else {
            throw TrainingError.badOption("epochs, batch size and every learning rate must be positive, weight decay and warm-up finite and non-negative")
        }
        guard train.values.allSatisfy({ $0.isFinite }), selection.values.allSatisfy({ $0.isFinite }) else {
            throw TrainingError.badOption("the features hold NaN or infinite values; they cannot be trained on")
        }
        let start = Date()
        var grid = try LinearClassifierGrid(dim: train.width, classes: classes, learningRates: s.scaledLearningRates,
                                            seed: s.seed, metadata: metadata)
        let total = totalSteps(samples: train.count, settings: s)
        let perEpoch = total / s.epochs
        let schedule = LearningRateSchedule(totalSteps: total, warmupSteps: Int((s.warmupEpochs * Double(perEpoch)).rounded()))
        var sgd = SGD(momentum: 0.9, weightDecay: s.weightDecay)
        var adamw = AdamW(weightDecay: s.weightDecay)
        var random = SeededRandom(seed: s.seed)
        var order: [Int] = []
        var cursor = 0
        var losses = [Float](repeating: 0, count: s.learningRates.count)
        var diverged = [Int?](repeating: nil, count: s.learningRates.count)
        for step in 0..<total {
            // Batches walk through a fresh permutation; a new one starts when it runs out.
            var batch: [Int] = []
            batch.reserveCapacity(s.batchSize)
            while batch.count < min(s.batchSize, train.count) {
                if cursor == order.count { order = random.permutation(train.count); cursor = 0 }
                batch.append(order[cursor])
                cursor += 1
            }
            let rows = train.rows(batch)
            let factor = schedule.factor(at: step)
            switch s.optimizer {
            case .sgd: losses = try grid.trainStep(features: rows.values, labels: rows.labels, optimizer: &sgd, learningRateFactor: factor)
            case .adamw: losses = try grid.trainStep(features: rows.values, labels: rows.labels, optimizer: &adamw, learningRateFactor: factor)
            }
            // A head whose loss leaves the finite numbers has diverged (each head has its own rows
            // of the weight matrix, so the others train on unaffected).
            for g in losses.indices where diverged[g] == nil && !losses[g].isFinite { diverged[g] = step + 1 }
            guard diverged.contains(where: { $0 == nil }) else {
                throw TrainingError.diverged("every learning rate diverged (the loss became NaN or infinite by step \(step + 1)); lower the learning rates or check the features for huge values")
            }
            let finite = losses.indices.filter { diverged[$0] == nil }
            progress(step + 1, total, step / perEpoch + 1, finite.map { losses[$0] }.reduce(0, +) / Float(finite.count))
        }
        let scores = try grid.accuracies(features: selection.values, labels: selection.labels)
        // Highest top-1 wins; ties go to the lower cross-entropy on the selection split. Diverged
        // heads (and any whose selection loss is not finite) are out.
        let selectionLoss = try grid.lossesAndGradients(features: selection.values, labels: selection.labels).losses
        let eligible = scores.indices.filter { diverged[$0] == nil && selectionLoss[$0].isFinite }
        guard var best = eligible.first else {
            throw TrainingError.diverged("every head's loss on the selection split is NaN or infinite; lower the learning rates")
        }
        for i in eligible where scores[i] > scores[best] || (scores[i] == scores[best] && selectionLoss[i] < selectionLoss[best]) {
            best = i
        }
        let result = GridResult(learningRates: s.learningRates, scaledLearningRates: s.scaledLearningRates,
                                selectionAccuracy: scores, reportedAccuracy: nil, selectedOn: "holdout",
                                bestIndex: best, finalLosses: losses, selectionLoss: selectionLoss, divergedAtStep: diverged,
                                steps: total, seconds: Date().timeIntervalSince(start))
        return (grid, result)
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
