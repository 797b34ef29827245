import Images

/// The label arithmetic around the propagation in DINO's `eval_video_segmentation.py`.
public enum PropagationLabels {
    /// `read_seg` + `to_one_hot`: the first annotation resized (Pillow nearest) to the patch grid,
    /// one channel per id 0...max of the resized map. Returns the channels and [classes, cells].
    public static func oneHot(_ annotation: LabelMask, gridHeight: Int, gridWidth: Int) -> (classes: Int, labels: [Float]) {
        let small = annotation.resizedNearest(width: gridWidth, height: gridHeight, pillow: true)
        let classes = Int(small.max() ?? 0) + 1, cells = small.count
        var labels = [Float](repeating: 0, count: classes * cells)
        for (p, id) in small.enumerated() { labels[Int(id) * cells + p] = 1 }
        return (classes, labels)
    }

    /// The propagated labels [classes, gridHeight, gridWidth] to a label map of `width` x `height`:
    /// bilinear upsampling by `patch` (`F.interpolate`, align_corners=False), `norm_mask` (each
    /// channel with a positive maximum rescaled to [0, 1]), the first largest channel per pixel,
    /// then a Pillow nearest resize to the frame's size.
    public static func labelMap(_ soft: [Float], classes: Int, gridHeight: Int, gridWidth: Int, patch: Int,
                                width: Int, height: Int) throws -> LabelMask {
        let (h, w) = (gridHeight * patch, gridWidth * patch)
        var best = [Float](repeating: -.infinity, count: h * w), winner = [UInt8](repeating: 0, count: h * w)
        var nanChannel = false
        for c in 0..<classes {
            var plane = upsampled(Array(soft[(c * gridHeight * gridWidth)..<((c + 1) * gridHeight * gridWidth)]),
                                  gridHeight: gridHeight, gridWidth: gridWidth, patch: patch)
            if let top = plane.max(), top > 0, let low = plane.min() {
                let range = top - low
                // A constant positive channel divides 0 by 0: NaN everywhere, which torch.max picks.
                if range == 0 {
                    if !nanChannel { winner = [UInt8](repeating: UInt8(c), count: h * w) }
                    nanChannel = true
                    continue
                }
                for i in plane.indices { plane[i] = (plane[i] - low) / range }
            }
            guard !nanChannel else { continue }
            for i in plane.indices where plane[i] > best[i] { (best[i], winner[i]) = (plane[i], UInt8(c)) }
        }
        let map = try LabelMask(width: w, height: h, labels: winner)
        return try LabelMask(width: width, height: height, labels: map.resizedNearest(width: width, height: height, pillow: true))
    }

    /// One channel [h, w] upsampled by `patch` as torch's bilinear `interpolate` with
    /// align_corners=False and a scale factor (source = (dst + 0.5) / patch - 0.5, clamped at 0).
    static func upsampled(_ plane: [Float], gridHeight: Int, gridWidth: Int, patch: Int) -> [Float] {
        func taps(_ out: Int, _ size: Int) -> [(Int, Int, Float)] {
            (0..<out).map { d in
                let src = max((Float(d) + 0.5) / Float(patch) - 0.5, 0)
                let i0 = min(Int(src), size - 1)
                return (i0, i0 < size - 1 ? i0 + 1 : i0, src - Float(i0))
            }
        }
        let rows = taps(gridHeight * patch, gridHeight), columns = taps(gridWidth * patch, gridWidth)
        var out = [Float](repeating: 0, count: rows.count * columns.count)
        for (y, (y0, y1, ly)) in rows.enumerated() {
            for (x, (x0, x1, lx)) in columns.enumerated() {
                let top = (1 - lx) * plane[y0 * gridWidth + x0] + lx * plane[y0 * gridWidth + x1]
                let bottom = (1 - lx) * plane[y1 * gridWidth + x0] + lx * plane[y1 * gridWidth + x1]
                out[y * columns.count + x] = (1 - ly) * top + ly * bottom
            }
        }
        return out
    }
}
