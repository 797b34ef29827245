import Foundation
import Heads

/// DINO's label propagation (facebookresearch/dino, `eval_video_segmentation.py`,
/// `label_propagation`): each patch of a new frame takes the labels of its `topk` most similar
/// patches (cosine of L2-normalised tokens, `exp(cos / temperature)`) among the first frame and
/// the `context` previous ones, searched within `radius` patches of its own position, weighted by
/// their normalised affinities. Only the queue's frames are held: memory does not grow with the video.
public struct LabelPropagator: Sendable {
    public let settings: PropagationSettings
    public let gridHeight: Int, gridWidth: Int, dim: Int, classes: Int
    /// One frame of the queue: normalised tokens [cells, dim], soft labels [classes, cells].
    struct Frame: Sendable { var features: [Float]; var labels: [Float] }
    private let first: Frame
    private var recent: [Frame] = []
    /// The source cells each query cell searches (ascending), as `restrict_neighborhood` marks them.
    private let neighbours: [[Int32]]
    var cells: Int { gridHeight * gridWidth }
    /// Previous frames in the queue now (at most `settings.context`).
    public var queuedFrames: Int { recent.count }

    /// Starts a video from its first frame's tokens [cells, dim] and labels [classes, cells].
    public init(settings: PropagationSettings, gridHeight: Int, gridWidth: Int, dim: Int, firstFeatures: [Float],
                firstLabels: [Float]) throws {
        let cells = gridHeight * gridWidth
        let scratch = Double(cells) * Double(cells) * Double(settings.context + 2)
        guard gridHeight > 0, gridWidth > 0, dim > 0, scratch * 4 <= 8e9 else {
            throw TrainingError.badOption("a \(gridWidth)x\(gridHeight) patch grid is too large for label propagation")
        }
        guard firstLabels.count % cells == 0, firstLabels.count > 0 else {
            throw TrainingError.badOption("first-frame labels of \(firstLabels.count) values do not fit a \(cells)-cell grid")
        }
        (self.settings, self.gridHeight, self.gridWidth, self.dim) = (settings, gridHeight, gridWidth, dim)
        classes = firstLabels.count / cells
        neighbours = Self.neighbourhoods(height: gridHeight, width: gridWidth, radius: settings.radius)
        first = Frame(features: try Self.normalised(firstFeatures, rows: cells, dim: dim), labels: firstLabels)
    }

    /// Soft labels [classes, cells] of the next frame from its tokens [cells, dim]; the frame then
    /// joins the queue (the oldest leaves once `context` are held).
    public mutating func propagate(_ features: [Float]) throws -> [Float] {
        let target = try Self.normalised(features, rows: cells, dim: dim)
        let sources = [first] + recent
        let stride = neighbours.map(\.count).max() ?? 0
        var affinity = [Float](repeating: 0, count: sources.count * cells * stride)
        var similarity = [Float](repeating: 0, count: cells * cells)
        for (n, source) in sources.enumerated() {
            target.withUnsafeBufferPointer { t in
                source.features.withUnsafeBufferPointer { s in
                    similarity.withUnsafeMutableBufferPointer { out in
                        BLAS.gemm(t.baseAddress!, s.baseAddress!, transposeB: true, into: out.baseAddress!, m: cells, n: cells, k: dim)
                    }
                }
            }
            for q in 0..<cells {
                let base = (n * cells + q) * stride, row = q * cells
                for (i, p) in neighbours[q].enumerated() { affinity[base + i] = exp(similarity[row + Int(p)] / settings.temperature) }
            }
        }
        var labels = [Float](repeating: 0, count: classes * cells)
        for q in 0..<cells {
            let count = neighbours[q].count
            var values: [Float] = []
            for n in sources.indices {
                let start = (n * cells + q) * stride
                values += affinity[start..<(start + count)]
            }
            let threshold = Self.kthLargest(values, settings.topk)
            let total = values.reduce(Float(0)) { $1 >= threshold ? $0 + $1 : $0 }
            for (j, value) in values.enumerated() where value >= threshold {
                let (n, i) = j.quotientAndRemainder(dividingBy: count)
                let p = Int(neighbours[q][i]), weight = value / total
                for c in 0..<classes { labels[c * cells + q] += sources[n].labels[c * cells + p] * weight }
            }
        }
        recent.append(Frame(features: target, labels: labels))
        if recent.count > settings.context { recent.removeFirst() }
        return labels
    }

    /// `torch.topk(...).min()` over a column that also holds the zeros outside the neighbourhood:
    /// the k-th largest value, or 0 when fewer than k were computed (then every one is kept).
    static func kthLargest(_ values: [Float], _ k: Int) -> Float {
        guard values.count >= k else { return 0 }
        var top: [Float] = []
        top.reserveCapacity(k + 1)
        for v in values where top.count < k || v > top[k - 1] {
            let at = top.firstIndex { $0 < v } ?? top.count
            top.insert(v, at: at)
            if top.count > k { top.removeLast() }
        }
        return top[k - 1]
    }

    /// `F.normalize(x, dim=1)`: each row divided by max(its L2 norm, 1e-12); refuses NaN or infinity.
    static func normalised(_ x: [Float], rows: Int, dim: Int) throws -> [Float] {
        guard x.count == rows * dim else { throw TrainingError.badOption("expected \(rows)x\(dim) features, got \(x.count) values") }
        guard x.allSatisfy(\.isFinite) else { throw TrainingError.badOption("features hold NaN or infinity") }
        var out = x
        for r in 0..<rows {
            let row = x[(r * dim)..<((r + 1) * dim)]
            let norm = max(row.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for d in 0..<dim { out[r * dim + d] = x[r * dim + d] / norm }
        }
        return out
    }

    /// For each cell, the cells within `radius` rows and columns (all of them when `radius` is 0,
    /// as the reference applies no mask then).
    static func neighbourhoods(height: Int, width: Int, radius: Int) -> [[Int32]] {
        (0..<(height * width)).map { q in
            guard radius > 0 else { return (0..<Int32(height * width)).map { $0 } }
            let (i, j) = q.quotientAndRemainder(dividingBy: width)
            return (max(0, i - radius)...min(height - 1, i + radius)).flatMap { y in
                (max(0, j - radius)...min(width - 1, j + radius)).map { Int32(y * width + $0) }
            }
        }
    }
}
