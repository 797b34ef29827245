import Foundation

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
