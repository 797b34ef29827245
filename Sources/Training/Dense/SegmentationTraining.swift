import Backbone
import Foundation
import Heads
import Support
import Images

/// Settings of the linear segmentation recipe (reference doc section 5).
public struct SegmentationSettings: Sendable, Codable {
    /// Optimizer steps (Meta: 40,000).
    public var iterations = 40_000
    public var batchSize = 16
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-3
    /// Linear warm-up steps (Meta: 1,500 of 40,000); nil scales that share to `iterations`.
    public var warmup: Int?
    public var seed: UInt64 = 0

    public init() {}

    public var warmupSteps: Int { warmup ?? Int((Double(iterations) * 1500 / 40000).rounded()) }
}

/// Trains and evaluates linear segmentation heads on cached patch features.
public enum SegmentationTraining {
    /// AdamW with warm-up then cosine over random batches of the store's views.
    /// `progress` receives (step, total, loss).
    public static func train(store: PatchFeatureStore, classes: Int, settings s: SegmentationSettings, metadata: HeadMetadata,
                             progress: (Int, Int, Float) -> Void = { _, _, _ in }) throws -> LinearSegmenter {
        guard s.iterations > 0, s.batchSize > 0, s.learningRate.isFinite, s.learningRate > 0,
              s.weightDecay.isFinite, s.weightDecay >= 0 else {
            throw TrainingError.badOption("iterations, batch size and learning rate must be positive, weight decay finite and non-negative")
        }
        var head = try LinearSegmenter(dim: store.dim, classes: classes, seed: s.seed, metadata: metadata)
        var optimizer = AdamW(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: s.weightDecay)
        let schedule = LearningRateSchedule(totalSteps: s.iterations, warmupSteps: min(s.warmupSteps, s.iterations - 1))
        var random = SeededRandom(seed: s.seed)
        var order: [Int] = []
        var cursor = 0
        let batch = min(s.batchSize, store.count)
        for step in 0..<s.iterations {
            var indices: [Int] = []
            while indices.count < batch {
                if cursor == order.count { order = random.permutation(store.count); cursor = 0 }
                indices.append(order[cursor])
                cursor += 1
            }
            let (features, labels) = try store.batch(indices)
            let loss = try head.trainStep(features: features, batch: batch, height: store.gridHeight, width: store.gridWidth,
                                          labels: labels, labelHeight: store.labelHeight, labelWidth: store.labelWidth,
                                          optimizer: &optimizer, learningRate: schedule.learningRate(base: s.learningRate, step: step),
                                          random: &random)
            guard loss.isFinite else {
                throw TrainingError.diverged("the loss became \(loss) at step \(step + 1) of \(s.iterations) (learning rate \(s.learningRate)); lower the learning rate")
            }
            progress(step + 1, s.iterations, loss)
        }
        return head
    }

    /// Evaluates `head` on `dataset` at the original mask sizes: features at `resolution` x
    /// `resolution`, logits upsampled bilinearly to each mask. Bad pairs are skipped and returned.
    public static func evaluate(head: LinearSegmenter, model: DINOv3Model, dataset: SegmentationDataset, resolution: Int,
                                batchSize: Int = 8, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                                onPrediction: ((Int, [UInt8], Int, Int) throws -> Void)? = nil) throws -> (metrics: SegmentationMetrics, skipped: [SkippedInput]) {
        var metrics = try SegmentationMetrics(numClasses: dataset.classCount, ignoreIndex: Int(dataset.ignoreIndex), classNames: dataset.classNames)
        let extractor = try FeatureExtractor(model: model, preprocessing: Preprocessing(preset: .hf, size: resolution),
                                             batchSize: batchSize, maxPixels: maxPixels)
        var skipped: [SkippedInput] = []
        let progress = ProgressReporter("evaluate", total: dataset.count)
        try extractor.run(paths: dataset.samples.map(\.image), onBatch: { batch in
            let out = batch.output
            for (b, index) in batch.indices.enumerated() {
                let mask: LabelMask
                do { mask = try dataset.loadMask(for: dataset.samples[index]) } catch {
                    skipped.append(SkippedInput(index: index, path: dataset.samples[index].mask, reason: "\(error)"))
                    continue
                }
                let prediction = try head.predict(features: Array(out.patchTokens(b)), batch: 1, height: out.gridHeight,
                                                  width: out.gridWidth, outputHeight: mask.height, outputWidth: mask.width)
                try metrics.add(prediction: prediction, label: mask.labels)
                try onPrediction?(index, prediction, mask.width, mask.height)
            }
        }, onSkip: { skipped.append($0) }, onProgress: { progress.update($0) })
        progress.finish(dataset.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        return (metrics, skipped)
    }
}
