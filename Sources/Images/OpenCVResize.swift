/// OpenCV's `cv2.resize(image, (width, height))` (INTER_LINEAR) on 8-bit pixels, to the bit:
/// source x = (dx + 0.5) * in / out - 0.5 in float, weights rounded to 11-bit fixed point, a
/// horizontal pass in integers, then the vertical blend as its SIMD kernel computes it
/// (`VResizeLinearVec_32s8u`: each term `((S >> 4) * b) >> 16`, the sum `(s + 2) >> 2`).
/// DINO's video segmentation reads frames this way.
public enum OpenCVResize {
    /// `image` resized to `width` x `height`.
    public static func linear(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
        guard (1...65_536).contains(width), (1...65_536).contains(height) else {
            throw ImageError.invalid("cannot resize to \(width)x\(height)")
        }
        let (w, h) = (image.width, image.height)
        let columns = taps(out: width, in: w, clampRight: true), rows = taps(out: height, in: h, clampRight: false)
        var horizontal = [Int32](repeating: 0, count: h * width * 3)
        for y in 0..<h {
            for (dx, t) in columns.enumerated() {
                for c in 0..<3 {
                    let p0 = Int32(image.pixels[(y * w + t.first) * 3 + c]), p1 = Int32(image.pixels[(y * w + t.second) * 3 + c])
                    horizontal[(y * width + dx) * 3 + c] = p0 * t.weight0 + p1 * t.weight1
                }
            }
        }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for (dy, t) in rows.enumerated() {
            let (r0, r1) = (t.first * width * 3, t.second * width * 3)
            for i in 0..<(width * 3) {
                let a = ((horizontal[r0 + i] >> 4) * t.weight0) >> 16, b = ((horizontal[r1 + i] >> 4) * t.weight1) >> 16
                out[dy * width * 3 + i] = UInt8(clamping: (a + b + 2) >> 2)
            }
        }
        return try RGBImage(width: width, height: height, pixels: out)
    }

    /// One output coordinate's two source indices and 11-bit weights. Columns past the right
    /// edge take the last pixel whole (its `xmax` rule); rows are clamped to the image.
    struct Tap { var first: Int, second: Int, weight0: Int32, weight1: Int32 }

    static func taps(out: Int, in size: Int, clampRight: Bool) -> [Tap] {
        let scale = Double(size) / Double(out)
        return (0..<out).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if clampRight {
                if s < 0 { (f, s) = (0, 0) }
                if s + 1 >= size { return Tap(first: size - 1, second: size - 1, weight0: 2048, weight1: 0) }
            }
            let w0 = Int32(((1 - f) * 2048).rounded(.toNearestOrEven)), w1 = Int32((f * 2048).rounded(.toNearestOrEven))
            return Tap(first: min(max(s, 0), size - 1), second: min(max(s + 1, 0), size - 1), weight0: w0, weight1: w1)
        }
    }
}
