import Backbone
import Foundation
import Heads
import Support

/// The region of the ground truth that is scored.
public enum DepthEvalCrop: String, Sendable, Codable, CaseIterable {
    /// Eigen's NYU crop, rows 45..<471 and columns 41..<601 of 480x640, scaled to the map's size
    /// (Meta's `make_valid_mask` with `NYU_EIGEN`).
    case nyuEigen = "nyu-eigen"
    /// Garg's KITTI crop: rows int(0.40810811 h)..<int(0.99189189 h), columns
    /// int(0.03594771 w)..<int(0.96405229 w) (BTS's `bts_eval.py`; not in Meta's code).
    case garg
    /// The whole map.
    case full

    /// The crop's rows and columns in a `width` x `height` map.
    public func window(width: Int, height: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        func part(_ a: Double, _ b: Double, _ n: Int) -> Range<Int> {
            let (lo, hi) = (min(Int(a * Double(n)), n), min(Int(b * Double(n)), n))
            return lo..<max(lo, hi)
        }
        switch self {
        case .nyuEigen: return (part(45.0 / 480, 471.0 / 480, height), part(41.0 / 640, 601.0 / 640, width))
        case .garg: return (part(0.40810811, 0.99189189, height), part(0.03594771, 0.96405229, width))
        case .full: return (0..<height, 0..<width)
        }
    }
}

/// How Meta's `evaluate_depther_with_dataloader` scores one image, in its order: ground truth at
/// or outside (min, max) becomes 0 (ignored); the valid pixels are the crop's where the ground
/// truth is not 0; the prediction (already at the ground truth's size) is clamped to
/// [min, max]; `calculate_depth_metrics` runs on the valid pixels.
public struct DepthEvaluation: Sendable, Codable, Equatable {
    public var crop: DepthEvalCrop
    public var minDepth: Float
    public var maxDepth: Float

    /// Meta's NYU evaluation: Eigen crop, (0.001, 10) m.
    public static let nyu = DepthEvaluation(unchecked: .nyuEigen, minDepth: 0.001, maxDepth: 10)
    /// KITTI's Eigen-split evaluation: Garg crop, (0.001, 80) m.
    public static let kitti = DepthEvaluation(unchecked: .garg, minDepth: 0.001, maxDepth: 80)

    /// Throws unless 0 <= min < max, both finite.
    public init(crop: DepthEvalCrop, minDepth: Float, maxDepth: Float) throws {
        guard minDepth.isFinite, maxDepth.isFinite, minDepth >= 0, minDepth < maxDepth else {
            throw TrainingError.badOption("the depth range needs 0 <= min < max, both finite (got min \(minDepth), max \(maxDepth))")
        }
        self.init(unchecked: crop, minDepth: minDepth, maxDepth: maxDepth)
    }

    private init(unchecked crop: DepthEvalCrop, minDepth: Float, maxDepth: Float) {
        (self.crop, self.minDepth, self.maxDepth) = (crop, minDepth, maxDepth)
    }

    /// Which pixels of `truth` are scored.
    public func validMask(_ truth: DepthMap) -> [Bool] {
        var mask = [Bool](repeating: false, count: truth.values.count)
        let (rows, columns) = crop.window(width: truth.width, height: truth.height)
        for y in rows {
            for x in columns {
                let g = truth.values[y * truth.width + x]
                mask[y * truth.width + x] = g > minDepth && g < maxDepth
            }
        }
        return mask
    }

    /// One image's ten metrics: `prediction` has `truth`'s size; a NaN or infinite prediction
    /// is refused.
    public func scores(prediction: [Float], truth: DepthMap) throws -> DepthScores {
        guard prediction.count == truth.values.count else {
            throw TrainingError.badOption("a prediction of \(prediction.count) pixels for a \(truth.width)x\(truth.height) depth map")
        }
        if let bad = prediction.firstIndex(where: { !$0.isFinite }) {
            throw TrainingError.badOption("the prediction at pixel \(bad % truth.width),\(bad / truth.width) is \(prediction[bad]), not a finite depth")
        }
        let mask = validMask(truth)
        var pairs: [(gt: Float, pred: Float)] = []
        for i in mask.indices where mask[i] { pairs.append((truth.values[i], min(max(prediction[i], minDepth), maxDepth))) }
        return DepthScores(pairs)
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
            let prediction = try DepthMap.upsampled(outputs, height: height, width: width, toWidth: truth.width, height: truth.height)
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
