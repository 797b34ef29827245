import Foundation

/// DAVIS's region (J) and boundary (F) measures, as davis2017-evaluation computes them
/// (davisvideochallenge/davis2017-evaluation, davis2017/metrics.py and utils.py). Masks are
/// row-major, one Bool per pixel.
public enum VideoSegmentationMetrics {
    /// `db_eval_iou`: intersection over union; 1 when both masks are empty.
    public static func jaccard(annotation: [Bool], segmentation: [Bool]) -> Double {
        var intersection = 0, union = 0
        for (a, s) in zip(annotation, segmentation) {
            if a && s { intersection += 1 }
            if a || s { union += 1 }
        }
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }

    /// `f_measure`: boundary precision and recall within `ceil(boundThreshold * diagonal)` pixels
    /// (a disk, as skimage's `disk` dilated by OpenCV), combined as their harmonic mean.
    public static func boundaryF(segmentation: [Bool], annotation: [Bool], width: Int, height: Int,
                                 boundThreshold: Double = 0.008) -> Double {
        let radius = boundThreshold >= 1 ? Int(boundThreshold)
            : Int((boundThreshold * Double(height * height + width * width).squareRoot()).rounded(.up))
        let predicted = boundaryMap(segmentation, width: width, height: height)
        let truth = boundaryMap(annotation, width: width, height: height)
        let predictedNear = dilated(predicted, width: width, height: height, radius: radius)
        let truthNear = dilated(truth, width: width, height: height, radius: radius)
        let nPredicted = predicted.filter { $0 }.count, nTruth = truth.filter { $0 }.count
        let precision: Double, recall: Double
        switch (nPredicted, nTruth) {
        case (0, 0): (precision, recall) = (1, 1)
        case (0, _): (precision, recall) = (1, 0)
        case (_, 0): (precision, recall) = (0, 1)
        default:
            precision = Double(zip(predicted, truthNear).filter { $0 && $1 }.count) / Double(nPredicted)
            recall = Double(zip(truth, predictedNear).filter { $0 && $1 }.count) / Double(nTruth)
        }
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    /// `_seg2bmap`: pixels that differ from their right, lower or lower-right neighbour (outside
    /// the image counts as background), with the last row compared only rightwards, the last
    /// column only downwards, and the bottom-right pixel never a boundary.
    static func boundaryMap(_ seg: [Bool], width: Int, height: Int) -> [Bool] {
        var b = [Bool](repeating: false, count: seg.count)
        func at(_ y: Int, _ x: Int) -> Bool { y < height && x < width && seg[y * width + x] }
        for y in 0..<height {
            for x in 0..<width {
                let s = seg[y * width + x], e = at(y, x + 1), south = at(y + 1, x), se = at(y + 1, x + 1)
                if y == height - 1 && x == width - 1 { b[y * width + x] = false
                } else if y == height - 1 { b[y * width + x] = s != e
                } else if x == width - 1 { b[y * width + x] = s != south
                } else { b[y * width + x] = s != e || s != south || s != se }
            }
        }
        return b
    }

    /// Binary dilation by the disk x² + y² <= radius² (OpenCV's border adds nothing).
    static func dilated(_ map: [Bool], width: Int, height: Int, radius: Int) -> [Bool] {
        var offsets: [(Int, Int)] = []
        for dy in -radius...radius { for dx in -radius...radius where dx * dx + dy * dy <= radius * radius { offsets.append((dy, dx)) } }
        var out = [Bool](repeating: false, count: map.count)
        for y in 0..<height {
            for x in 0..<width where map[y * width + x] {
                for (dy, dx) in offsets {
                    let (v, u) = (y + dy, x + dx)
                    if v >= 0, v < height, u >= 0, u < width { out[v * width + u] = true }
                }
            }
        }
        return out
    }

    /// `db_statistics`: mean, recall (share above 0.5) and decay (mean of the first quarter of
    /// frames minus the last, its four bins from `round(linspace(1, n, 5)) - 1`).
    public struct Statistics: Codable, Sendable, Equatable {
        public var mean: Double, recall: Double, decay: Double

        public init(_ values: [Double]) {
            let n = values.count
            mean = values.reduce(0, +) / Double(n)
            recall = Double(values.filter { $0 > 0.5 }.count) / Double(n)
            // np.round(np.linspace(1, n, 5) + 1e-10) - 1, stored as uint8 by the reference.
            let ids = (0...4).map { i -> Int in
                let point = i == 4 ? Double(n) : 1 + Double(i) * (Double(n - 1) / 4)
                return (Int((point + 1e-10).rounded(.toNearestOrEven)) - 1) & 0xFF
            }
            func binMean(_ a: Int, _ b: Int) -> Double {
                guard a <= b, a < n else { return .nan }  // a wrapped id gives numpy an empty slice, whose mean is NaN
                let bin = values[a..<min(b + 1, n)]
                return bin.reduce(0, +) / Double(bin.count)
            }
            decay = binMean(ids[0], ids[1]) - binMean(ids[3], ids[4])
        }
    }
}

/// One object's per-frame J and F over a video and their statistics.
public struct VideoObjectScores: Codable, Sendable, Equatable {
    public var video: String
    /// The object's id (its palette index in the annotations).
    public var object: Int
    public var j: VideoSegmentationMetrics.Statistics
    public var f: VideoSegmentationMetrics.Statistics
    public var framesJ: [Double]
    public var framesF: [Double]
}

/// davis2017-evaluation's semi-supervised scoring of one video, fed frame by frame (the caller
/// passes frames 1 to n-2, as the reference leaves out the first and the last): objects 1...max
/// of the first annotation; 255 in an annotation counts as background, as `get_all_masks` sets it.
public struct VideoObjectScorer: Sendable {
    public let video: String
    public let objects: Int
    private var j: [[Double]], f: [[Double]]

    /// Scores `objects` objects (ids 1...objects).
    public init(video: String, objects: Int) {
        (self.video, self.objects) = (video, objects)
        (j, f) = (Array(repeating: [], count: objects), Array(repeating: [], count: objects))
    }

    /// The objects an evaluation of a video with this first annotation scores (its largest id but 255).
    public static func objects(inFirstAnnotation labels: [UInt8]) -> Int { Int(labels.lazy.filter { $0 != 255 }.max() ?? 0) }

    /// Adds one frame's annotation and prediction (label maps of `width` x `height`).
    public mutating func add(annotation: [UInt8], prediction: [UInt8], width: Int, height: Int) {
        for k in 0..<objects {
            let id = UInt8(k + 1)
            let truth = annotation.map { $0 == id }, predicted = prediction.map { $0 == id }
            j[k].append(VideoSegmentationMetrics.jaccard(annotation: truth, segmentation: predicted))
            f[k].append(VideoSegmentationMetrics.boundaryF(segmentation: predicted, annotation: truth, width: width, height: height))
        }
    }

    /// Each object's scores; nil before any frame was added.
    public func finish() -> [VideoObjectScores]? {
        guard let frames = j.first?.count, frames > 0 else { return nil }
        return (0..<objects).map {
            VideoObjectScores(video: video, object: $0 + 1, j: .init(j[$0]), f: .init(f[$0]), framesJ: j[$0], framesF: f[$0])
        }
    }
}

/// The global figures of davis2017-evaluation's `evaluation_method.py`: each the mean over all
/// objects of all videos, and J&F-Mean the mean of J-Mean and F-Mean.
public struct VideoSegmentationSummary: Codable, Sendable, Equatable {
    public var jfMean: Double, jMean: Double, jRecall: Double, jDecay: Double, fMean: Double, fRecall: Double, fDecay: Double
    public var objects: Int

    public init?(_ scores: [VideoObjectScores]) {
        guard !scores.isEmpty else { return nil }
        func mean(_ value: (VideoObjectScores) -> Double) -> Double { scores.map(value).reduce(0, +) / Double(scores.count) }
        (jMean, jRecall, jDecay) = (mean(\.j.mean), mean(\.j.recall), mean(\.j.decay))
        (fMean, fRecall, fDecay) = (mean(\.f.mean), mean(\.f.recall), mean(\.f.decay))
        jfMean = (jMean + fMean) / 2
        objects = scores.count
    }

    enum CodingKeys: String, CodingKey {
        case jfMean = "J&F-Mean", jMean = "J-Mean", jRecall = "J-Recall", jDecay = "J-Decay"
        case fMean = "F-Mean", fRecall = "F-Recall", fDecay = "F-Decay", objects
    }
}
