import Backbone
import Datasets
import Foundation
import Heads
import Images
import Plots
import Support

/// The linear depth protocol's shared pieces (the run itself is `DepthTraining` in the dense flow).
public enum DepthRun {
    /// Depth outputs [height, width] upsampled bilinearly (align_corners false) to a map of `toWidth` x `toHeight`.
    public static func upsampled(_ outputs: [Float], height: Int, width: Int, toWidth: Int, height toHeight: Int) throws -> DepthMap {
        let upsampler = try BilinearUpsampler(inputHeight: height, inputWidth: width, outputHeight: toHeight, outputWidth: toWidth)
        return DepthMap(uncheckedWidth: toWidth, height: toHeight, values: try upsampler.forward(outputs, batch: 1, channels: 1))
    }
}

extension DepthDataset {
    /// `path` relative to the data set's root (as it is when outside it), for tables.
    public func relativeName(_ path: String) -> String {
        ByteText.relative(path, to: root) ?? path
    }
}

/// How a depth head is scored on a split, as Meta does: the outputs (flip-averaged with `flip`)
/// upsampled bilinearly to each depth map and scored by `scoring` (range mask, crop, clamping).
public struct DepthHeadEvaluation: DenseTaskEvaluation {
    public var scoring: DepthEvaluation
    public var flip: Bool

    public init(scoring: DepthEvaluation, flip: Bool = true) { (self.scoring, self.flip) = (scoring, flip) }

    /// Notes when NYU's Eigen crop (the default) scores a data set that is not in the NYU layout.
    public func check(_ head: DepthHead, against dataset: DepthDataset, reporter: Reporter) throws {
        if let note = scoring.crop.note(layout: dataset.layout) { reporter.note(note) }
    }

    public func note(inference: DenseInference) -> String? {
        "\(scoring.crop.rawValue) crop, depth in (\(scoring.minDepth), \(scoring.maxDepth)) m, inference \(inference.name), flip TTA \(flip)"
    }

    public func evaluate(_ head: DepthHead, model: DINOv3Model, dataset: DepthDataset, inference: DenseInference, batchSize: Int, maxPixels: Int,
                         reporter: Reporter, onPrediction: (DensePrediction<DepthMap>) throws -> Void) throws -> (metrics: DepthMetrics, skipped: [SkippedInput]) {
        var metrics = DepthMetrics()
        var skipped: [SkippedInput] = []
        let task = reporter.task("evaluate", total: dataset.count, unit: "images")
        try inference.run(head: head, model: model, paths: dataset.samples.map(\.image), batchSize: batchSize, maxPixels: maxPixels,
                          flipAveraged: flip, onSkip: { skipped.append($0) }, onProgress: { task.update($0) }) { index, outputs, height, width in
            let sample = dataset.samples[index]
            let truth: DepthMap
            do { truth = try dataset.loadDepth(sample, maxPixels: maxPixels) } catch {
                return skipped.append(DepthDataset.skipped(index, sample, error))
            }
            let prediction = try DepthRun.upsampled(outputs, height: height, width: width, toWidth: truth.width, height: truth.height)
            metrics.update((name: dataset.relativeName(sample.image), scores: try scoring.scores(prediction: prediction.values, truth: truth)))
            try onPrediction((index, prediction))
        }
        task.finish(dataset.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        return (metrics, skipped)
    }
}

extension DepthEvalCrop {
    /// What to say when this crop (NYU's Eigen crop) scores a data set in another `layout`; nil when nothing.
    public func note(layout: DepthDataset.Layout) -> String? {
        guard self == .nyuEigen, layout != .nyu else { return nil }
        return "note: scoring NYU's Eigen crop of a \(layout.rawValue)-layout data set; give --eval-crop full (or garg for KITTI) to score other regions"
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
