import Backbone
import Heads
import Images
import Support

extension DenseInference {
    /// As `run`, and with `flipAveraged` Meta's flip test-time augmentation: each image's outputs
    /// are the mean of its own and its mirror image's (mirrored back). The images go in groups,
    /// each run plain then mirrored, so only a group's outputs are held at a time.
    public func run<Head: DenseHead>(head: Head, model: DINOv3Model, paths: [String], batchSize: Int = 8,
                                     maxPixels: Int = ImageDecoder.defaultMaxPixels, flipAveraged: Bool,
                                     onSkip: (SkippedInput) -> Void, onProgress: (Int) -> Void = { _ in },
                                     _ body: (_ index: Int, _ outputs: [Float], _ height: Int, _ width: Int) throws -> Void) throws {
        guard flipAveraged else {
            return try run(head: head, model: model, paths: paths, batchSize: batchSize, maxPixels: maxPixels, onSkip: onSkip,
                           onProgress: onProgress, body)
        }
        let group = max(batchSize, 8)
        for start in stride(from: 0, to: paths.count, by: group) {
            let slice = Array(paths[start..<min(start + group, paths.count)])
            var plain: [Int: [Float]] = [:]
            var skipped = Set<Int>()
            func skip(_ s: SkippedInput) {
                guard let i = s.index, skipped.insert(i).inserted else { return }
                onSkip(SkippedInput(index: start + i, path: s.path, reason: s.reason))
            }
            try run(head: head, model: model, paths: slice, batchSize: batchSize, maxPixels: maxPixels, onSkip: skip) { i, outputs, _, _ in
                plain[i] = outputs
            }
            try run(head: head, model: model, paths: slice, batchSize: batchSize, maxPixels: maxPixels, mirrored: true, onSkip: skip) { i, outputs, h, w in
                guard let first = plain.removeValue(forKey: i), first.count == outputs.count else {
                    return skip(SkippedInput(index: i, path: slice[i], reason: "its mirror image gave outputs of another size"))
                }
                let back = Self.mirrored(outputs, height: h, width: w, channels: head.channels)
                try body(start + i, zip(first, back).map { ($0 + $1) / 2 }, h, w)
            }
            onProgress(start + slice.count)
        }
    }

    /// Outputs [height, width, channels] mirrored left-right.
    static func mirrored(_ values: [Float], height: Int, width: Int, channels: Int) -> [Float] {
        var out = values
        for y in 0..<height {
            for x in 0..<width {
                let (to, from) = ((y * width + x) * channels, (y * width + width - 1 - x) * channels)
                for c in 0..<channels { out[to + c] = values[from + c] }
            }
        }
        return out
    }
}
