import Backbone
import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// The linear segmentation protocol on a data set: patch features of the training pairs are
/// extracted once into a patch store (`DenseStore`: cached, or temporary with no cache), the head
/// is trained on them, and evaluated on val at the original mask sizes.
public enum SegmentationRun {
    /// The recipe of a linear segmentation head trained at `resolution` (square, hf preset) on
    /// the last block, or on the blocks `layers` (their patch tokens concatenated per patch).
    public static func recipe(resolution: Int, layers: [Int]? = nil, preprocessing base: Preprocessing = Preprocessing()) -> FeatureRecipe {
        .dense(resolution: resolution, layers: layers, preprocessing: base)
    }

    /// What a head trained on `dataset` with `recipe` records: the recipe, the backbone, the
    /// classes with their palette, the resolution, the label semantics and the run.
    public static func headMetadata(recipe: FeatureRecipe, backboneID: String, model: DINOv3Model, dataset: SegmentationDataset,
                                    runID: String) -> HeadMetadata {
        HeadMetadata(kind: .segmenter, featureRecipe: recipe.key, backboneID: backboneID, backboneFingerprint: model.fingerprint,
                     classNames: dataset.classNames, palette: dataset.palette, inputResolution: recipe.preprocessing.size,
                     extra: ["ignore_index": "\(dataset.ignoreIndex)", "reduce_zero_label": "\(dataset.reduceZeroLabel)", "run_id": runID])
    }

    /// AdamW with warm-up then cosine over random batches of the store's views (the shared
    /// `TrainingLoop`). With `saving`, the whole loop state is saved as it goes, and a run
    /// resumed from a saved state ends with exactly the head an uninterrupted run gives.
    /// Returns the head and the per-step log.
    public static func train(store: PatchFeatureStore, classes: Int, settings s: SegmentationSettings, metadata: HeadMetadata,
                             saving: StateSaving? = nil,
                             reporter: Reporter = SilentReporter()) throws -> (head: LinearSegmenter, log: TrainingLog) {
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

    /// Seconds one training step takes here on `store` (the faster of two timed steps of a
    /// throwaway head; the run itself is not touched), for the time estimate at the start.
    public static func secondsPerStep(store: PatchFeatureStore, classes: Int, batchSize: Int) throws -> Double {
        var head = try LinearSegmenter(dim: store.dim, classes: classes, seed: 0)
        var optimizer = AdamW(weightDecay: 1e-3)
        var random = SeededRandom(seed: 0)
        var sampler = try BatchSampler(count: store.count, batchSize: batchSize)
        var best = Double.infinity
        for _ in 0..<2 {
            let start = Date()
            try head.trainStep(try store.batch(sampler.next(using: &random)), optimizer: &optimizer, learningRates: [1e-3], random: &random)
            best = min(best, Date().timeIntervalSince(start))
        }
        return best
    }

    /// What a saved segmentation state must agree on to be resumed (the store is named by the
    /// caller's `StateSaving.inputs`).
    private struct Identity: Encodable {
        let settings: SegmentationSettings
        let classes: Int
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

    public func headMetadata(recipe: FeatureRecipe, backboneID: String, model: DINOv3Model, runID: String) -> HeadMetadata {
        SegmentationRun.headMetadata(recipe: recipe, backboneID: backboneID, model: model, dataset: dataset, runID: runID)
    }

    public func secondsPerStep(store: PatchFeatureStore) throws -> Double {
        try SegmentationRun.secondsPerStep(store: store, classes: dataset.classCount, batchSize: settings.batchSize)
    }

    public func train(store: PatchFeatureStore, metadata: HeadMetadata, saving: StateSaving?, reporter: Reporter) throws -> (head: LinearSegmenter, log: TrainingLog) {
        try SegmentationRun.train(store: store, classes: dataset.classCount, settings: settings, metadata: metadata, saving: saving, reporter: reporter)
    }

    public func save(_ head: LinearSegmenter, to path: String) throws { try head.save(to: path, naming: naming) }

    public func page(record: RunRecord, result: SegmentationResult?, samples: [DensePrediction<LabelMask>], val: SegmentationDataset?,
                     views: Int, losses: Foundation.Data, maxPixels: Int) -> HTMLReport {
        SegmentationReport(record: record, settings: settings, result: result, samples: samples, dataset: val, views: views)
            .page(losses: losses, maxPixels: maxPixels)
    }
}
