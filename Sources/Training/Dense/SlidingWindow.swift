import Backbone
import Foundation
import Heads
import Images
import Support

/// Square crops of side `crop` every `stride` pixels, the last ones flush with the far edges.
/// Every value of the type covers each pixel of any image: made by the throwing initialiser,
/// decoded through it, and not changed afterwards.
public struct SlidingWindow: Sendable, Equatable, Codable {
    public let crop: Int
    public let stride: Int

    /// Meta's ADE20K setting is crop 512, stride 341: two thirds of the crop. Refused: a crop or
    /// stride under 1, or a stride over the crop (the pixels between windows would be in none).
    public init(crop: Int, stride: Int? = nil) throws {
        let stride = stride ?? Int((Double(crop) * 2 / 3).rounded(.down))
        guard crop > 0, stride > 0 else {
            throw TrainingError.badOption("a sliding window needs a crop and stride of at least 1 pixel, not crop \(crop), stride \(stride)")
        }
        guard stride <= crop else {
            throw TrainingError.badOption("--stride \(stride) is larger than the crop \(crop): the pixels between windows would be in none")
        }
        (self.crop, self.stride) = (crop, stride)
    }

    private enum CodingKeys: String, CodingKey { case crop, stride }

    /// Decoded (from a run's recorded settings) through the same checks as `init(crop:stride:)`.
    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(crop: try values.decode(Int.self, forKey: .crop), stride: try values.decode(Int.self, forKey: .stride))
    }

    public struct Window: Sendable, Equatable {
        public var y1: Int, x1: Int, y2: Int, x2: Int
        public var height: Int { y2 - y1 }
        public var width: Int { x2 - x1 }
    }

    /// The windows over a `height` x `width` image, row by row: mmsegmentation's grid
    /// (`grids = max(size - crop + stride - 1, 0) / stride + 1`, a window starting at
    /// `i * stride` ends at `min(start + crop, size)` and starts `crop` before its end, or at 0).
    public func windows(height: Int, width: Int) -> [Window] {
        guard height > 0, width > 0 else { return [] }
        func grid(_ size: Int) -> [(Int, Int)] {
            (0..<(max(size - crop + stride - 1, 0) / stride + 1)).map { i in
                let end = min(i * stride + crop, size)
                return (max(end - crop, 0), end)
            }
        }
        return grid(height).flatMap { ys in grid(width).map { xs in Window(y1: ys.0, x1: xs.0, y2: ys.1, x2: xs.1) } }
    }

    /// The average over the windows of their logits ([window height, window width, classes]
    /// each) at every pixel of a `height` x `width` image: [height, width, classes].
    public static func average(_ parts: [(window: Window, logits: [Float])], height: Int, width: Int, classes: Int) throws -> [Float] {
        var sum = [Float](repeating: 0, count: height * width * classes)
        var count = [Float](repeating: 0, count: height * width)
        for (w, logits) in parts {
            guard w.y1 >= 0, w.x1 >= 0, w.y2 <= height, w.x2 <= width, logits.count == w.height * w.width * classes else {
                throw TrainingError.badOption("window \(w) does not fit a \(height)x\(width) image with \(logits.count) logits")
            }
            for y in 0..<w.height {
                for x in 0..<w.width {
                    let target = ((w.y1 + y) * width + w.x1 + x)
                    count[target] += 1
                    let source = (y * w.width + x) * classes
                    for c in 0..<classes { sum[target * classes + c] += logits[source + c] }
                }
            }
        }
        for p in 0..<(height * width) {
            guard count[p] > 0 else { throw TrainingError.badOption("pixel \(p % width),\(p / width) is in no window") }
            let inverse = 1 / count[p]
            for c in 0..<classes { sum[p * classes + c] *= inverse }
        }
        return sum
    }

    /// A dense head's outputs at every pixel of an image given as `pixels` [3, height, width]
    /// (preprocessed, sides multiples of the patch size), [height, width, channels]: each window
    /// through the backbone and the head (outputs upsampled to the window), averaged. Windows go
    /// through the backbone `batchSize` at a time.
    public func outputs<Head: DenseHead>(head: Head, model: DINOv3Model, layers: [Int], pixels: [Float], height: Int, width: Int,
                                         batchSize: Int = 8) throws -> [Float] {
        let all = windows(height: height, width: width)
        var parts: [(window: Window, logits: [Float])] = []
        var start = 0
        while start < all.count {
            // Windows of one size go through the backbone together.
            let first = all[start]
            var group = [first]
            while start + group.count < all.count, group.count < max(batchSize, 1),
                  all[start + group.count].height == first.height, all[start + group.count].width == first.width {
                group.append(all[start + group.count])
            }
            let out = try model.forward(pixels: crops(group, of: pixels, height: height, width: width), batch: group.count,
                                        height: first.height, width: first.width, layers: layers)
            for (b, w) in group.enumerated() {
                let logits = try head.upsampledLogits(features: out.concatenatedPatchTokens(b), batch: 1, height: out.gridHeight,
                                                      width: out.gridWidth, outputHeight: w.height, outputWidth: w.width)
                parts.append((w, logits))
            }
            start += group.count
        }
        return try Self.average(parts, height: height, width: width, classes: head.channels)
    }

    /// The pixels of `group` (windows of one size) cut from `pixels` [3, height, width], [count, 3, h, w].
    private func crops(_ group: [Window], of pixels: [Float], height: Int, width: Int) -> [Float] {
        var batch: [Float] = []
        batch.reserveCapacity(group.count * 3 * group[0].height * group[0].width)
        for w in group {
            for c in 0..<3 {
                for y in w.y1..<w.y2 {
                    let row = (c * height + y) * width
                    batch += pixels[(row + w.x1)..<(row + w.x2)]
                }
            }
        }
        return batch
    }
}
