import Datasets
import Foundation
import Images
import Support

/// A small generated data set in Meta's NYU layout (see `DepthDataset`): rooms of a floor, a
/// back wall and one to three boxes at their own depths, whose appearance carries the depth
/// (hue and brightness fall with depth, the texture's period shrinks with it), so a linear probe
/// has something to learn. JPEG images, 16-bit PNG depths in millimetres (a few pixels 0, "no
/// depth", as a real sensor's holes), `nyu_train.txt` (paths with a leading `/`, as BTS's train
/// list) and `nyu_test.txt`. Deterministic for a seed; writes only into a new, empty or
/// previously generated folder.
public enum SyntheticDepth {
    /// Writes `count` train and `valCount` val pairs of `width` x `height`; returns the lists' line counts.
    @discardableResult
    public static func make(root: String, count: Int, valCount: Int, width: Int = 320, height: Int = 240,
                            seed: UInt64 = 0) throws -> (train: Int, val: Int) {
        guard count >= 1, valCount >= 1, count <= 100_000, valCount <= 100_000 else {
            throw DatasetError.invalidParameter("count and val count must be 1...100000 (got \(count), \(valCount))")
        }
        guard (16...4096).contains(width), (16...4096).contains(height) else {
            throw DatasetError.invalidParameter("width and height must be 16...4096 pixels (got \(width)x\(height))")
        }
        let root = try SyntheticData.prepare(root)
        for (split, n) in [(DatasetSplit.train, count), (.val, valCount)] {
            var lines: [String] = []
            for i in 0..<n {
                var rng = SeededRandom(seed: seed, stream: [29, UInt64(split == .train ? 0 : 1), UInt64(i)])
                let (image, depth) = try scene(width: width, height: height, rng: &rng)
                let folder = "synth_\(split.rawValue)_\(i / 100)", number = String(format: "%05d", i)
                try JPEGEncoder.write(image, to: "\(root)/\(folder)/rgb_\(number).jpg", quality: 95)
                try depth.writePNG(to: "\(root)/\(folder)/sync_depth_\(number).png", scale: 1000)
                let lead = split == .train ? "/" : ""
                lines.append("\(lead)\(folder)/rgb_\(number).jpg \(lead)\(folder)/sync_depth_\(number).png 518.8579")
            }
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: root + "/" + DepthDataset.nyuList(split))
        }
        return (count, valCount)
    }

    /// One room: its depth (metres) per pixel, then its picture.
    static func scene(width w: Int, height h: Int, rng: inout SeededRandom) throws -> (RGBImage, DepthMap) {
        let wall = rng.uniform(5.0, 9.0), horizon = Double(h) * rng.uniform(0.35, 0.55), camera = 1.4 * Double(h) / 2
        var depth = (0..<(w * h)).map { p -> Float in
            let below = Double(p / w) + 0.5 - horizon
            return Float(below > 0 ? min(wall, camera / below) : wall)  // floor up to the wall
        }
        for _ in 0..<(1 + rng.int(below: 3)) {
            let d = rng.uniform(1.0, min(4.5, wall - 0.5))
            let bw = Double(w) * rng.uniform(0.15, 0.35) / d * 1.5, bh = Double(h) * rng.uniform(0.2, 0.4) / d * 1.5
            let x0 = rng.uniform(0, max(1, Double(w) - bw)), y1 = min(Double(h), horizon + camera / d)
            for y in max(0, Int(y1 - bh))..<Int(y1) {
                for x in Int(x0)..<min(w, Int(x0 + bw)) where Double(depth[y * w + x]) > d { depth[y * w + x] = Float(d) }
            }
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for p in 0..<(w * h) {
            let d = Double(depth[p]), (x, y) = (Double(p % w), Double(p / w))
            let period = max(2, 24 / d)
            let stripe = (Int(x / period) + Int(y / period)) % 2 == 0 ? 1.0 : 0.8
            let (r, g, b) = SyntheticData.hueColor(min(d / 10, 0.83), value: 250 - 14 * d)
            let noise = rng.uniform(-6.0, 6.0)
            pixels[p * 3] = SyntheticData.clamp(r * stripe + noise)
            pixels[p * 3 + 1] = SyntheticData.clamp(g * stripe + noise)
            pixels[p * 3 + 2] = SyntheticData.clamp(b * stripe + noise)
            if rng.uniform() < 0.01 { depth[p] = 0 }  // a sensor hole
        }
        return (try RGBImage(width: w, height: h, pixels: pixels), DepthMap(uncheckedWidth: w, height: h, values: depth))
    }
}
