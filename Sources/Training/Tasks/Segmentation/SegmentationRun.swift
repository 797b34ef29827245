import Backbone
import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// The linear segmentation protocol's shared pieces (the run itself is `SegmentationTraining` in the dense flow).
public enum SegmentationRun {
    /// The recipe of a linear segmentation head trained at `resolution` (square, hf preset) on
    /// the last block, or on the blocks `layers` (their patch tokens concatenated per patch).
    public static func recipe(resolution: Int, layers: [Int]? = nil, preprocessing base: Preprocessing = Preprocessing()) -> FeatureRecipe {
        .dense(resolution: resolution, layers: layers, preprocessing: base)
    }
}

/// Linear segmentation as the shared dense flow trains it: `settings` on `dataset`'s classes, the
/// head saved with `naming`'s tensor names.
public struct SegmentationTraining: DenseTaskRun {
    public typealias Data = SegmentationDataset
    public typealias Evaluation = SegmentationEvaluation
    public let settings: SegmentationSettings
    public let dataset: SegmentationDataset
    public var naming = LinearSegmenter.TensorNaming.dinoprobe
    public var lossName: String { "Training loss" }

    public var steps: (iterations: Int, warmup: Int, batchSize: Int, seed: UInt64) {
        (settings.iterations, settings.warmupSteps, settings.batchSize, settings.seed)
    }

    public init(settings: SegmentationSettings, dataset: SegmentationDataset, naming: LinearSegmenter.TensorNaming = .dinoprobe) {
        (self.settings, self.dataset, self.naming) = (settings, dataset, naming)
    }

    public static func augmentationName(size: Int) -> String {
        "short side \(size) x U(0.5, 2), \(size) crop, cat_max_ratio 0.75, flip 0.5, photometric distortion, pad"
    }

    /// What a head trained on `dataset` with `recipe` records: the recipe, the backbone, the
    /// classes with their palette, the resolution, the label semantics and the run.
    public func headMetadata(recipe: FeatureRecipe, backboneID: String, model: DINOv3Model, runID: String) -> HeadMetadata {
        HeadMetadata(kind: .segmenter, featureRecipe: recipe.key, backboneID: backboneID, backboneFingerprint: model.fingerprint,
                     classNames: dataset.classNames, palette: dataset.palette, inputResolution: recipe.preprocessing.size,
                     extra: ["ignore_index": "\(dataset.ignoreIndex)", "reduce_zero_label": "\(dataset.reduceZeroLabel)", "run_id": runID])
    }

    public func secondsPerStep(store: PatchFeatureStore) throws -> Double {
        var head = try LinearSegmenter(dim: store.dim, classes: dataset.classCount, seed: 0)
        var optimizer = AdamW(weightDecay: 1e-3)
        var random = SeededRandom(seed: 0)
        var sampler = try BatchSampler(count: store.count, batchSize: settings.batchSize)
        return try Self.fasterOfTwo {
            try head.trainStep(try store.batch(sampler.next(using: &random)), optimizer: &optimizer, learningRates: [1e-3], random: &random)
        }
    }

    /// AdamW with warm-up then cosine over random batches of the store's views (the shared
    /// `TrainingLoop`). With `saving`, the whole loop state is saved as it goes, and a run
    /// resumed from a saved state ends with exactly the head an uninterrupted run gives.
    public func train(store: PatchFeatureStore, metadata: HeadMetadata, saving: StateSaving?, reporter: Reporter) throws -> (head: LinearSegmenter, log: TrainingLog) {
        let (s, classes) = (settings, dataset.classCount)
        guard s.iterations > 0, s.batchSize > 0, s.learningRate.isFinite, s.learningRate > 0,
              s.weightDecay.isFinite, s.weightDecay >= 0 else {
            throw TrainingError.badOption("iterations, batch size and learning rate must be positive, weight decay finite and non-negative")
        }
        var head = try LinearSegmenter(dim: store.dim, classes: classes, seed: s.seed, metadata: metadata)
        var optimizer = AdamW(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: s.weightDecay)
        // Meta: linear warm-up from a ratio of 1e-6 of the rate, then cosine to 0.
        let schedule = LearningRateSchedule(totalSteps: s.iterations, warmupSteps: min(s.warmupSteps, s.iterations - 1), warmupStart: 1e-6)
        // One stream of random numbers for batches and dropout masks.
        let loop = try TrainingLoop(name: "linear-segmentation", settings: Identity(settings: s, classes: classes), steps: s.iterations,
                                    batchSize: s.batchSize, seed: s.seed, schedule: schedule, learningRates: [s.learningRate],
                                    series: ["head"], saving: saving)
        let outcome = try loop.run(&head, optimizer: &optimizer, samples: store.count, batch: store.batch, reporter: reporter)
        return (head, outcome.log)
    }

    /// What a saved segmentation state must agree on to be resumed (the store is named by the
    /// caller's `StateSaving.inputs`).
    private struct Identity: Encodable {
        let settings: SegmentationSettings
        let classes: Int
    }

    public func save(_ head: LinearSegmenter, to path: String) throws { try head.save(to: path, naming: naming) }
}
