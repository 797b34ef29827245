import Datasets
import Foundation
import Images
import Support

/// Scoring any tool's depth maps against ground truth: 16-bit PNGs of depth x `depthScale` with
/// the same relative path under two folders, scored by `DepthEvaluation` and averaged as Meta
/// does. Pairs that cannot be compared (a prediction missing or extra, unreadable, not 16-bit
/// greyscale, of another size) are skipped and listed.
public enum DepthComparison {
    public static func compare(predictions: String, groundTruth: String, depthScale: Float, evaluation: DepthEvaluation,
                               maxPixels: Int = ImageDecoder.defaultMaxPixels,
                               reporter: Reporter = SilentReporter()) throws -> (metrics: DepthMetrics, skipped: [SkippedInput]) {
        guard depthScale.isFinite, depthScale > 0 else {
            throw DatasetError.invalidParameter("the depth scale must be a positive number of stored units per metre (got \(depthScale))")
        }
        let truths = try pngs(under: groundTruth), predicted = try pngs(under: predictions)
        guard !truths.names.isEmpty else { throw DatasetError.emptySplit(folder: groundTruth, hint: "put the ground-truth depth PNGs there") }
        var skipped = truths.problems + predicted.problems
        let known = Set(truths.names)
        skipped += predicted.names.filter { !known.contains($0) }.map {
            SkippedInput(path: predictions + "/" + $0, reason: "no ground truth of that name in \(groundTruth)")
        }
        var metrics = DepthMetrics()
        let task = reporter.task("evaluate", total: truths.names.count, unit: "maps")
        for (i, name) in truths.names.enumerated() {
            let truthPath = groundTruth + "/" + name, predictionPath = predictions + "/" + name
            do {
                guard FileSystem.exists(predictionPath) else { throw DatasetError.badFile(path: predictionPath, reason: "no prediction for \(truthPath)") }
                let truth = try DepthMap(png: truthPath, scale: depthScale, maxPixels: maxPixels)
                let prediction = try DepthMap(png: predictionPath, scale: depthScale, maxPixels: maxPixels)
                guard (truth.width, truth.height) == (prediction.width, prediction.height) else {
                    throw DatasetError.badFile(path: predictionPath, reason: "prediction is \(prediction.width)x\(prediction.height) but the ground truth is \(truth.width)x\(truth.height)")
                }
                metrics.update((name: name, scores: try evaluation.scores(prediction: prediction.values, truth: truth)))
            } catch {
                skipped.append(DepthDataset.skipped(i, DepthSample(image: predictionPath, depth: truthPath), error))
            }
            task.update(i + 1)
        }
        task.finish(truths.names.count)
        return (metrics, skipped)
    }

    /// The PNG files under `folder` (recursively, hidden ones left out), by relative path.
    static func pngs(under folder: String) throws -> (names: [String], problems: [SkippedInput]) {
        let walk: DirectoryWalk.Result
        do { walk = try DirectoryWalk.files(under: folder) } catch {
            throw DatasetError.badFile(path: folder, reason: "cannot list the folder (\(error))")
        }
        let names = walk.files.compactMap { ByteText.hasSuffix($0.lowercased(), ".png") ? ByteText.relative($0, to: folder) : nil }
        return (names, walk.problems.map { SkippedInput(path: $0.path, reason: $0.reason) })
    }
}
