import Backbone
import Datasets
import Foundation
import Heads
import Images
import Plots
import Support

extension DepthDataset {
    /// `path` relative to the data set's root (as it is when outside it), for tables.
    public func relativeName(_ path: String) -> String {
        ByteText.relative(path, to: root) ?? path
    }
}

/// Linear depth as the shared dense flow trains it: `settings` on data stored at `depthScale` per metre.
public struct DepthTraining: DenseTaskRun {
    public typealias Data = DepthDataset
    public typealias Evaluation = DepthHeadEvaluation
    public var lossName: String { "SigLoss" }
    public let settings: DepthSettings
    public let depthScale: Float

    public var steps: (iterations: Int, warmup: Int, batchSize: Int, seed: UInt64) {
        (settings.iterations, settings.schedule.warmupSteps, settings.batchSize, settings.seed)
    }

    public init(settings: DepthSettings, depthScale: Float) { (self.settings, self.depthScale) = (settings, depthScale) }

    public static func augmentationName(size: Int) -> String {
        "NYU crop, rotation 0.5, flip 0.5, \(size)x\(size) random crop, colour jitter 0.5"
    }

    /// What a depth head trained with `recipe` records: the feature recipe, the backbone, the
    /// resolution, the data's depth scale and the run (the head recipe is added on save).
    public func headMetadata(recipe: FeatureRecipe, backboneID: String, model: DINOv3Model, runID: String) -> HeadMetadata {
        HeadMetadata(kind: .depth, featureRecipe: recipe.key, backboneID: backboneID, backboneFingerprint: model.fingerprint,
                     inputResolution: recipe.preprocessing.size, extra: ["depth_scale": "\(depthScale)", "run_id": runID])
    }

    public func secondsPerStep(store: PatchFeatureStore) throws -> Double {
        var random = SeededRandom(seed: 0)
        var head = try DepthHead(channels: store.dim, recipe: settings.head, metadata: HeadMetadata(kind: .depth), random: &random)
        var optimizer = AdamW(weightDecay: 1e-4)
        var sampler = try BatchSampler(count: store.count, batchSize: settings.batchSize)
        return try Self.fasterOfTwo {
            try head.trainStep(try store.batch(sampler.next(using: &random), of: Float.self), optimizer: &optimizer, learningRates: [1e-4],
                               clipNorm: settings.gradientClip, random: &random)
        }
    }

    /// AdamW (Meta's betas, weight decay, gradient clipping) with Meta's WarmupOneCycleLR over
    /// random batches of the store's views (the shared `TrainingLoop`). With `saving`, the loop
    /// state is saved as it goes, and a resumed run ends with exactly the uninterrupted run's head.
    public func train(store: PatchFeatureStore, metadata: HeadMetadata, saving: StateSaving?, reporter: Reporter) throws -> (head: DepthHead, log: TrainingLog) {
        let s = settings
        guard s.iterations > 0, s.batchSize > 0, s.learningRate.isFinite, s.learningRate > 0, s.weightDecay.isFinite, s.weightDecay >= 0,
              s.betas.count == 2, s.betas.allSatisfy({ (0..<1).contains($0) }), s.gradientClip.isFinite, s.gradientClip > 0 else {
            throw TrainingError.badOption("iterations, batch size, learning rate and clipping must be positive, betas in [0, 1), weight decay finite and non-negative")
        }
        var random = SeededRandom(seed: s.seed, stream: [29])
        var head = try DepthHead(channels: store.dim, recipe: s.head, metadata: metadata, random: &random)
        var optimizer = AdamW(beta1: s.betas[0], beta2: s.betas[1], eps: 1e-8, weightDecay: s.weightDecay)
        var loop = try TrainingLoop(name: "linear-depth", settings: s, steps: s.iterations, batchSize: s.batchSize, seed: s.seed,
                                    schedule: s.schedule, learningRates: [s.learningRate], series: ["head"], saving: saving)
        loop.gradientClip = s.gradientClip
        let outcome = try loop.run(&head, optimizer: &optimizer, samples: store.count, batch: { try store.batch($0, of: Float.self) },
                                   reporter: reporter)
        return (head, outcome.log)
    }

    public func save(_ head: DepthHead, to path: String) throws { try head.save(to: path) }
}
