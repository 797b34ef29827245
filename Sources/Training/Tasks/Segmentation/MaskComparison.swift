import Datasets
import Evaluation
import Foundation
import Images
import Support

/// Scoring any tool's predicted masks against ground truth: PNG masks of the same file name in
/// two folders (class index per pixel), with mmsegmentation's metrics. Pairs that cannot be
/// compared (missing, unreadable, different sizes) are skipped and listed.
public enum MaskComparison {
    public static func compare(predictions: String, groundTruth: String, classNames: [String], ignoreIndex: UInt8,
                               reduceZeroLabel: Bool, reporter: Reporter = SilentReporter()) throws
        -> (metrics: SegmentationScores, skipped: [SkippedInput]) {
        let names: [String]
        do { names = try FileSystem.list(groundTruth).filter { !$0.hasPrefix(".") && $0.lowercased().hasSuffix(".png") } } catch {
            throw DatasetError.badFile(path: groundTruth, reason: "cannot list the folder (\(error))")
        }
        guard !names.isEmpty else { throw DatasetError.emptySplit(folder: groundTruth, hint: "put the ground-truth masks (PNG) there") }
        var scores = try SegmentationScores(classNames: classNames, ignoreIndex: Int(ignoreIndex))
        let table = LabelMapping.table(reduceZeroLabel: reduceZeroLabel, ignoreIndex: ignoreIndex)
        var skipped: [SkippedInput] = []
        let task = reporter.task("evaluate", total: names.count, unit: "masks")
        for (i, name) in names.enumerated() {
            let truthPath = groundTruth + "/" + name, predictionPath = predictions + "/" + name
            do {
                let truth = try MaskDecoder.decode(path: truthPath)
                let prediction = try MaskDecoder.decode(path: predictionPath)
                guard truth.width == prediction.width, truth.height == prediction.height else {
                    throw DatasetError.sizeMismatch(image: truthPath, mask: predictionPath, imageSize: [truth.width, truth.height],
                                                    maskSize: [prediction.width, prediction.height])
                }
                try scores.update((prediction.labels, LabelMapping.apply(table, to: truth.labels), predictionPath, truthPath))
            } catch {
                skipped.append(SkippedInput(index: i, path: predictionPath, reason: "\(error)"))
            }
            task.update(i + 1)
        }
        task.finish(names.count)
        return (scores, skipped)
    }
}

extension SegmentationMetrics {
    /// Writes `metrics.json`, `per_image.csv` (`perImage`'s rows) and `confusion.csv` into `folder`; returns their names.
    public func writeScores(perImage: [SegmentationImageScore], to folder: String) throws -> [String] {
        try result().writeJSON(to: folder + "/metrics.json")
        try AtomicFile.write(Data(SegmentationImageScore.csv(perImage).utf8), to: folder + "/per_image.csv")
        try AtomicFile.write(Data(confusionCSV().utf8), to: folder + "/confusion.csv")
        return ["metrics.json", "per_image.csv", "confusion.csv"]
    }
}
