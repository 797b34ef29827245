import Support
/// Channel dropout on channels-last feature maps, as PyTorch `Dropout2d` on [B, C, h, w]:
/// in training each (sample, channel) pair is zeroed with probability `p` and kept ones are
/// scaled by `1 / (1 - p)`, the same factor over the whole h x w map.
public enum Dropout2d {
    /// A mask [batch, channels] of 0 and 1/(1-p), drawn sample-major from `random`
    /// (all ones when p = 0).
    public static func mask(batch: Int, channels: Int, p: Float, random: inout SeededRandom) -> [Float] {
        let count = max(0, batch) * max(0, channels)
        guard p > 0 else { return [Float](repeating: 1, count: count) }
        let keep = p < 1 ? 1 / (1 - p) : 0
        return (0..<count).map { _ in random.uniform() < p ? 0 : keep }
    }

    /// Multiplies `features` [batch, pixels, channels] by the mask [batch, channels] into `out`.
    static func apply(_ features: UnsafePointer<Float>, mask: UnsafePointer<Float>, batch: Int, pixels: Int, channels: Int,
                      into out: UnsafeMutablePointer<Float>) {
        for b in 0..<batch {
            let m = mask + b * channels
            for p in 0..<pixels {
                let offset = (b * pixels + p) * channels
                for d in 0..<channels { out[offset + d] = features[offset + d] * m[d] }
            }
        }
    }
}
