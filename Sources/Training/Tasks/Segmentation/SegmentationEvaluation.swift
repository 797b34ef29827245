import Backbone
import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Support

/// The segmentation scores of a split: mmsegmentation's metrics over all images and each image's own row.
public struct SegmentationScores: DenseMetrics, Sendable {
    public var metrics: SegmentationMetrics
    public var perImage: [SegmentationImageScore] = []

    public init(classNames: [String], ignoreIndex: Int) throws {
        metrics = try SegmentationMetrics(numClasses: classNames.count, ignoreIndex: ignoreIndex, classNames: classNames)
    }

    /// Adds one image: its predicted classes and labels (same size), its image and mask paths.
    public mutating func update(_ sample: (prediction: [UInt8], label: [UInt8], image: String, mask: String)) throws {
        perImage.append(try metrics.addImage(prediction: sample.prediction, label: sample.label, image: sample.image, mask: sample.mask))
    }

    public func finish() -> SegmentationResult { metrics.result() }

    /// metrics.json, per_image.csv and confusion.csv.
    public func writeScores(to folder: String) throws -> [String] { try metrics.writeScores(perImage: perImage, to: folder) }

    /// The rows with their image and mask paths as typed: below whichever of `roots` (as typed) holds them.
    public func spelled(below roots: [String?]) -> SegmentationScores {
        func spell(_ path: String) -> String { roots.compactMap { $0 }.lazy.map { FileSystem.spelled(path, below: $0) }.first { $0 != path } ?? path }
        var spelled = self
        for i in spelled.perImage.indices { (spelled.perImage[i].image, spelled.perImage[i].mask) = (spell(perImage[i].image), spell(perImage[i].mask)) }
        return spelled
    }
}

/// How a segmentation head is scored on a split: at the original mask sizes, logits upsampled
/// bilinearly to each mask; per-image rows with their paths below `roots` as typed; with
/// `predictionsIn`, each predicted mask saved as `pred/<mask stem>.png` in that run's staging folder.
public struct SegmentationEvaluation: DenseTaskEvaluation {
    public var roots: [String?]
    public var predictionsIn: RunFolder?

    public init(roots: [String?], predictionsIn: RunFolder? = nil) { (self.roots, self.predictionsIn) = (roots, predictionsIn) }

    public func check(_ head: LinearSegmenter, against dataset: SegmentationDataset, reporter: Reporter) throws {
        guard dataset.classNames == head.metadata.classNames else {
            throw TrainingError.incompatible("the head's \(head.classes) classes are not this data set's \(dataset.classCount)")
        }
    }

    public func evaluate(_ head: LinearSegmenter, model: DINOv3Model, dataset: SegmentationDataset, inference: DenseInference, batchSize: Int,
                         maxPixels: Int, reporter: Reporter,
                         onPrediction: (DensePrediction<LabelMask>) throws -> Void) throws -> (metrics: SegmentationScores, skipped: [SkippedInput]) {
        var scores = try SegmentationScores(classNames: dataset.classNames, ignoreIndex: Int(dataset.ignoreIndex))
        var skipped: [SkippedInput] = []
        let task = reporter.task("evaluate", total: dataset.count, unit: "images")
        try inference.run(head: head, model: model, paths: dataset.samples.map(\.image), batchSize: batchSize, maxPixels: maxPixels,
                          onSkip: { skipped.append($0) }, onProgress: { task.update($0) }) { index, logits, height, width in
            let sample = dataset.samples[index]
            let label: LabelMask
            do { label = try dataset.loadMask(for: sample) } catch {
                return skipped.append(SkippedInput(index: index, path: sample.mask, reason: "\(error)"))
            }
            let prediction = try LabelMask(width: label.width, height: label.height, labels: try LinearSegmenter.upsampledArgmax(
                logits, batch: 1, height: height, width: width, classes: head.classes, outputHeight: label.height, outputWidth: label.width))
            try scores.update((prediction.labels, label.labels, sample.image, sample.mask))
            if let run = predictionsIn {
                let stem = URL(fileURLWithPath: sample.mask).deletingPathExtension().lastPathComponent
                try PNGEncoder.writeIndexed(prediction.labels, width: label.width, height: label.height, palette: Array(dataset.palette.prefix(768)),
                                            to: run.staging() + "/pred/\(stem).png")
            }
            try onPrediction((index, prediction))
        }
        task.finish(dataset.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        return (scores.spelled(below: roots), skipped)
    }
}
