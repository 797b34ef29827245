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
        let nPredicted = predicted.reduce(0) { $1 ? $0 + 1 : $0 }, nTruth = truth.reduce(0) { $1 ? $0 + 1 : $0 }
        let precision: Double, recall: Double
        switch (nPredicted, nTruth) {
        case (0, 0): (precision, recall) = (1, 1)
        case (0, _): (precision, recall) = (1, 0)
        case (_, 0): (precision, recall) = (0, 1)
        default:
            let disk = disk(radius)
            precision = Double(matched(predicted, near: truth, width: width, height: height, disk: disk)) / Double(nPredicted)
            recall = Double(matched(truth, near: predicted, width: width, height: height, disk: disk)) / Double(nTruth)
        }
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    /// `_seg2bmap`: pixels that differ from their right, lower or lower-right neighbour (outside
    /// the image counts as background), with the last row compared only rightwards, the last
    /// column only downwards, and the bottom-right pixel never a boundary.
    static func boundaryMap(_ seg: [Bool], width: Int, height: Int) -> [Bool] {
        var b = [Bool](repeating: false, count: seg.count)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x, s = seg[i]
                let east = x + 1 < width && seg[i + 1], south = y + 1 < height && seg[i + width]
                if y == height - 1 { b[i] = x < width - 1 && s != east
                } else if x == width - 1 { b[i] = s != south
                } else { b[i] = s != east || s != south || s != seg[i + width + 1] }
            }
        }
        return b
    }

    /// skimage's `disk(radius)`: the offsets with dx² + dy² <= radius², nearest first.
    static func disk(_ radius: Int) -> [(dy: Int, dx: Int)] {
        var offsets: [(dy: Int, dx: Int)] = []
        for dy in -radius...radius { for dx in -radius...radius where dx * dx + dy * dy <= radius * radius { offsets.append((dy, dx)) } }
        return offsets.sorted { $0.dy * $0.dy + $0.dx * $0.dx < $1.dy * $1.dy + $1.dx * $1.dx }
    }

    /// The pixels of `a` with a pixel of `b` within `disk`: the sum of `a` times `b` dilated by
    /// the disk (OpenCV's `dilate`, whose border adds nothing), counted without making the dilation.
    static func matched(_ a: [Bool], near b: [Bool], width: Int, height: Int, disk: [(dy: Int, dx: Int)]) -> Int {
        var count = 0
        for y in 0..<height {
            for x in 0..<width where a[y * width + x] {
                for (dy, dx) in disk {
                    let (v, u) = (y + dy, x + dx)
                    if v >= 0, v < height, u >= 0, u < width, b[v * width + u] { count += 1; break }
                }
            }
        }
        return count
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
        case jfMean = "jf_mean", jMean = "j_mean", jRecall = "j_recall", jDecay = "j_decay"
        case fMean = "f_mean", fRecall = "f_recall", fDecay = "f_decay", objects
    }
}
