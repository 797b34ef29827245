import Foundation

/// Rotary position embedding of DINOv3 exactly as `transformers` computes it, for a grid of
/// `rows` x `cols` patches: cos and sin tables of shape [rows * cols, headDim]. With `periods`
/// (Meta's stored buffer, headDim / 4 values) the angles are 2π·coordinate / period, as Meta's
/// model computes them; without, 2π·coordinate·inv_freq from `theta`, as `transformers` does.
struct RoPETables {
    let cos: [Float]
    let sin: [Float]

    init(rows: Int, cols: Int, headDim: Int, theta: Double, periods: [Float]? = nil) {
        let quarter = headDim / 4
        // inv_freq = 1 / theta ** arange(0, 1, 4 / head_dim), in float32.
        let step = 4.0 / Double(headDim)
        let invFreq: [Float] = (0..<quarter).map { j in
            1 / powf(Float(theta), Float(Double(j) * step))
        }
        // Patch centres normalised to (-1, 1), rows and columns separately.
        func centres(_ n: Int) -> [Float] { (0..<n).map { 2 * ((Float($0) + 0.5) / Float(n)) - 1 } }
        let ys = centres(rows), xs = centres(cols)
        let twoPi = Float(2 * Double.pi)
        var cos = [Float](repeating: 0, count: rows * cols * headDim)
        var sin = cos
        for r in 0..<rows {
            for c in 0..<cols {
                let base = (r * cols + c) * headDim
                for j in 0..<quarter {
                    // Layout per token: [y-freqs | x-freqs], tiled twice.
                    let ay = periods.map { twoPi * ys[r] / $0[j] } ?? twoPi * ys[r] * invFreq[j]
                    let ax = periods.map { twoPi * xs[c] / $0[j] } ?? twoPi * xs[c] * invFreq[j]
                    for (offset, angle) in [(j, ay), (quarter + j, ax)] {
                        let cv = cosf(angle), sv = sinf(angle)
                        cos[base + offset] = cv; cos[base + 2 * quarter + offset] = cv
                        sin[base + offset] = sv; sin[base + 2 * quarter + offset] = sv
                    }
                }
            }
        }
        self.cos = cos
        self.sin = sin
    }
}
