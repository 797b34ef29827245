import Foundation

/// torchvision's `rotate` about the image centre without expanding (`_get_inverse_affine_matrix`,
/// `_affine_grid`, then `grid_sample` with align_corners false and zero padding), in float32 as
/// torch computes it: for each output pixel, the input position it samples.
struct RotationGrid {
    let width: Int
    let height: Int
    /// Input (x, y) in pixels for each output pixel, row-major.
    let positions: [(x: Float, y: Float)]

    /// The grid of a counter-clockwise rotation by `degrees`.
    init(width: Int, height: Int, degrees: Float) {
        (self.width, self.height) = (width, height)
        let radians = -Double(degrees) * Double.pi / 180  // rotate() inverts the angle for the affine matrix
        let (cosine, sine) = (Float(Foundation.cos(radians)), Float(Foundation.sin(radians)))
        let (halfW, halfH) = (Float(width) * 0.5, Float(height) * 0.5)
        let (r00, r10, r01, r11) = (cosine / halfW, sine / halfW, -sine / halfH, cosine / halfH)
        var positions: [(x: Float, y: Float)] = []
        positions.reserveCapacity(width * height)
        for i in 0..<height {
            let y = (Float(1 - height) * 0.5) + Float(i)
            for j in 0..<width {
                let x = (Float(1 - width) * 0.5) + Float(j)
                let (gx, gy) = (x * r00 + y * r10, x * r01 + y * r11)
                positions.append(((gx + 1) * halfW - 0.5, (gy + 1) * halfH - 0.5))
            }
        }
        self.positions = positions
    }

    /// Planar `channels` x height x width values sampled bilinearly (zero outside), then
    /// multiplied by the sampled coverage, as torchvision's fill = 0 does.
    func bilinear(_ values: [Float], channels: Int) -> [Float] {
        let plane = width * height
        var out = [Float](repeating: 0, count: values.count)
        for (p, position) in positions.enumerated() {
            let (x0, y0) = (position.x.rounded(.down), position.y.rounded(.down))
            let (w, n) = (position.x - x0, position.y - y0)
            let (e, s) = (1 - w, 1 - n)
            // The four neighbours (north-west, north-east, south-west, south-east) inside the image.
            var offsets: (Int, Int, Int, Int) = (0, 0, 0, 0)
            var weights: (Float, Float, Float, Float) = (0, 0, 0, 0)
            let (ix, iy) = (Int(x0), Int(y0))
            let (westIn, eastIn) = (ix >= 0 && ix < width, ix + 1 >= 0 && ix + 1 < width)
            let (northIn, southIn) = (iy >= 0 && iy < height, iy + 1 >= 0 && iy + 1 < height)
            if northIn && westIn { (offsets.0, weights.0) = (iy * width + ix, s * e) }
            if northIn && eastIn { (offsets.1, weights.1) = (iy * width + ix + 1, s * w) }
            if southIn && westIn { (offsets.2, weights.2) = ((iy + 1) * width + ix, n * e) }
            if southIn && eastIn { (offsets.3, weights.3) = ((iy + 1) * width + ix + 1, n * w) }
            let coverage = weights.0 + weights.1 + weights.2 + weights.3
            for c in 0..<channels {
                let base = c * plane
                let sampled = values[base + offsets.0] * weights.0 + values[base + offsets.1] * weights.1
                    + values[base + offsets.2] * weights.2 + values[base + offsets.3] * weights.3
                out[base + p] = sampled * coverage
            }
        }
        return out
    }

    /// Values sampled at the nearest pixel (halves to even), 0 outside.
    func nearest(_ values: [Float]) -> [Float] {
        positions.map { position in
            let (x, y) = (Int(position.x.rounded(.toNearestOrEven)), Int(position.y.rounded(.toNearestOrEven)))
            return x >= 0 && x < width && y >= 0 && y < height ? values[y * width + x] : 0
        }
    }
}
