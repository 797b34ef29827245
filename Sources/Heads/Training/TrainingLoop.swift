import Foundation
import Support

/// The one training loop of every trained task: random batches from a `BatchSampler`, the
/// schedule's factor on each series' learning rate, one optimizer step of a `TrainableHead`, the
/// per-step log, a divergence check, progress, and the whole loop state saved as it goes so
/// that a resumed run ends bit for bit where an uninterrupted one ends.
public struct TrainingLoop {
    /// Names the loop in saved states ("linear-probe", "linear-segmentation").
    public var name: String
    public var steps: Int
    public var batchSize: Int
    /// Seeds the one random stream of batches and dropout masks.
    public var seed: UInt64
    public var schedule: any TrainingSchedule
    /// The total gradient norm each step is clipped to (nil: no clipping).
    public var gradientClip: Float?
    /// The base learning rate of each series (a grid trains one series per rate).
    public var learningRates: [Float]
    /// A name per series, for the log.
    public var series: [String]
    public var saving: StateSaving?
    /// The progress note after each step (default: the smoothed loss).
    public var note: (TrainingProgress) -> String = { String(format: "loss %.4f", $0.smoothedLoss) }
    /// The settings as JSON: a saved state must have been made with the same.
    let settings: String

    /// `settings` identifies the run's settings in saved states (compared on resume).
    public init<Settings: Encodable>(name: String, settings: Settings, steps: Int, batchSize: Int, seed: UInt64,
                                     schedule: any TrainingSchedule, learningRates: [Float], series: [String],
                                     saving: StateSaving? = nil) throws {
        try require(steps > 0 && batchSize > 0, "training loop", "\(steps) steps of batch \(batchSize); both must be positive")
        try require(!learningRates.isEmpty && learningRates.count == series.count, "learning rates", "one per series")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.settings = String(decoding: try encoder.encode(settings), as: UTF8.self)
        (self.name, self.steps, self.batchSize, self.seed) = (name, steps, batchSize, seed)
        (self.schedule, self.learningRates, self.series, self.saving) = (schedule, learningRates, series, saving)
    }

    /// Trains `head` with `optimizer` on batches of `samples` items (`batch` turns sampled
    /// indices into a batch). Continues from `saving.resumeFrom` when given. Throws
    /// `HeadError.diverged` once every series' loss has left the finite numbers.
    public func run<Head: TrainableHead, O: Optimizer & Resumable>(_ head: inout Head, optimizer: inout O, samples: Int,
                                                                  batch: ([Int]) throws -> Head.Batch,
                                                                  reporter: Reporter = SilentReporter()) throws -> TrainingOutcome {
        var random = SeededRandom(seed: seed)
        var sampler = try BatchSampler(count: samples, batchSize: batchSize)
        var log = TrainingLog(series: series)
        var saver = StateSaver(saving, loop: name, settings: settings)
        var progress = TrainingProgress(series: series.count, total: steps)
        if let (state, step) = try saver.resumeState() {
            try head.restore(from: state, as: Head.stateName)
            try optimizer.restore(from: state, as: O.stateName)
            try random.restore(from: state, as: "random")
            try sampler.restore(from: state, as: "sampler")
            try log.restore(from: state, as: "log")
            guard step <= steps, log.steps == step else {
                throw HeadError.badTrainingState(path: "", reason: "step \(step) does not fit its log or \(steps) steps")
            }
            for s in 0..<step { progress.record(Array(log.losses[(s * series.count)..<((s + 1) * series.count)])) }
        }
        let task = reporter.task("train", total: steps, unit: "steps")
        if progress.step > 0 { task.resume(from: progress.step) }
        for step in progress.step..<steps {
            let rates = learningRates.map { $0 * schedule.factor(at: step) }
            if let momentum = schedule.momentum(at: step) { optimizer.momentum = momentum }
            let losses = try head.trainStep(try batch(sampler.next(using: &random)), optimizer: &optimizer, learningRates: rates,
                                            clipNorm: gradientClip, random: &random)
            log.append(learningRates: rates, losses: losses)
            progress.record(losses)
            if progress.everyDiverged { throw HeadError.diverged(divergence(losses, step: step + 1)) }
            task.update(step + 1, note: note(progress))
            // The last step is always saved: the results are published from it after an interruption.
            try saver.tick(step: step + 1, force: step + 1 == steps) { state in
                head.save(into: &state, as: Head.stateName)
                optimizer.save(into: &state, as: O.stateName)
                random.save(into: &state, as: "random")
                sampler.save(into: &state, as: "sampler")
                log.save(into: &state, as: "log")
            }
        }
        task.finish(steps, note: note(progress))
        return TrainingOutcome(log: log, divergedAtStep: progress.divergedAtStep, finalLosses: progress.losses)
    }

    /// What went wrong when every series diverged at `step`.
    private func divergence(_ losses: [Float], step: Int) -> String {
        guard losses.count > 1 else {
            return "the loss became \(losses[0]) at step \(step) of \(steps) (learning rate \(learningRates[0])); lower the learning rate"
        }
        return "every learning rate diverged (the loss became NaN or infinite by step \(step)); lower the learning rates or check the features for huge values"
    }
}

/// Where a training loop stands after a step.
public struct TrainingProgress: Sendable {
    /// Steps taken.
    public private(set) var step = 0
    public let total: Int
    /// The last step's loss of each series.
    public private(set) var losses: [Float]
    /// For each series, the step at which its loss left the finite numbers (nil: still training).
    public private(set) var divergedAtStep: [Int?]
    /// The last step's mean loss over the series still training.
    public private(set) var meanLoss: Float = 0
    /// An exponential moving average (0.98) of `meanLoss`.
    public private(set) var smoothedLoss: Float = 0

    init(series: Int, total: Int) {
        self.total = total
        losses = [Float](repeating: 0, count: series)
        divergedAtStep = [Int?](repeating: nil, count: series)
    }

    /// True once no series is training any more.
    public var everyDiverged: Bool { !divergedAtStep.contains { $0 == nil } }

    /// Records one step's losses.
    mutating func record(_ values: [Float]) {
        step += 1
        losses = values
        // A series whose loss leaves the finite numbers has diverged; the others train on.
        for g in values.indices where divergedAtStep[g] == nil && !values[g].isFinite { divergedAtStep[g] = step }
        let live = values.indices.filter { divergedAtStep[$0] == nil }
        guard !live.isEmpty else { return }
        meanLoss = live.map { values[$0] }.reduce(0, +) / Float(live.count)
        smoothedLoss = step == 1 ? meanLoss : 0.98 * smoothedLoss + 0.02 * meanLoss
    }
}

/// What a finished loop leaves besides the trained head.
public struct TrainingOutcome: Sendable {
    /// Every step's learning rates and losses.
    public var log: TrainingLog
    /// For each series, the step at which it diverged (nil: it trained normally).
    public var divergedAtStep: [Int?]
    /// The last step's loss of each series.
    public var finalLosses: [Float]
}
