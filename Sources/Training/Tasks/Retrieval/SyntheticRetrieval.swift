import Datasets
import Foundation
import Images
import Support
import TorchFile

/// A small generated data set in revisitop's layout, for trying `retrieval` and for tests: each
/// "landmark" is a random scene of coloured blocks; its database views are crops of it at other
/// positions and scales with colour changes and noise (easy: mild; hard: small crops, strong
/// colour shifts; junk: a sliver of it); distractors are scenes of their own; each landmark has
/// one query, a view with a box around the part that matters. `gnd_synth.pkl` is written in the
/// real files' layout (plain lists and dicts). The same seed gives the same files.
public enum SyntheticRetrieval {
    /// Writes the set into `root` (new or empty); returns its ground truth.
    public static func make(root: String, landmarks: Int = 4, views: Int = 5, distractors: Int = 6, size: Int = 64,
                            seed: UInt64 = 0) throws -> RetrievalGroundTruth {
        let root = try SyntheticData.prepare(root)
        var imlist: [String] = [], queries: [RetrievalQuery] = []
        func save(_ image: RGBImage, _ name: String) throws { try JPEGEncoder.write(image, to: "\(root)/jpg/\(name).jpg", quality: 95) }
        for l in 0..<landmarks {
            let scene = try self.scene(size: 2 * size, seed: seed, stream: UInt64(l))
            var easy: [Int] = [], hard: [Int] = [], junk: [Int] = []
            for v in 0..<views {
                var rng = SeededRandom(seed: seed, stream: [1, UInt64(l), UInt64(v)])
                let kind = v == views - 1 ? 2 : (v == views - 2 && l % 2 == 0 ? 1 : 0)  // odd landmarks have no hard views
                switch kind {
                case 0: easy.append(imlist.count)
                case 1: hard.append(imlist.count)
                default: junk.append(imlist.count)
                }
                let window = [1.3, 0.8, 0.35][kind] * Double(size)
                let name = "landmark\(l)_view\(v)"
                try save(view(scene, window: window, size: size, colour: [0.1, 0.35, 0.1][kind], rng: &rng), name)
                imlist.append(name)
            }
            var rng = SeededRandom(seed: seed, stream: [2, UInt64(l)])
            try save(view(scene, window: 1.5 * Double(size), size: size, colour: 0.05, rng: &rng), "query\(l)")
            let m = Double(size) / 8
            queries.append(RetrievalQuery(name: "query\(l)", box: [m + 0.5, m - 0.3, Double(size) - m + 0.25, Double(size) - m],
                                          easy: easy, hard: hard, junk: junk))
        }
        for d in 0..<distractors {
            var rng = SeededRandom(seed: seed, stream: [3, UInt64(d)])
            let scene = try self.scene(size: 2 * size, seed: seed, stream: UInt64(1000 + d))
            try save(view(scene, window: 1.2 * Double(size), size: size, colour: 0.1, rng: &rng), "distractor\(d)")
            imlist.append("distractor\(d)")
        }
        let gt = RetrievalGroundTruth(name: "synth", imlist: imlist, queries: queries)
        try AtomicFile.write(Data(pickle(gt).pickled()), to: root + "/gnd_synth.pkl")
        return gt
    }

    /// The ground truth as revisitop's pickle holds it.
    public static func pickle(_ gt: RetrievalGroundTruth) -> PlainPickle {
        let gnd = gt.queries.map { q -> PlainPickle in
            var d: [String: PlainPickle] = ["easy": .list(q.easy.map(PlainPickle.int)), "hard": .list(q.hard.map(PlainPickle.int)),
                                            "junk": .list(q.junk.map(PlainPickle.int))]
            if let box = q.box { d["bbx"] = .list(box.map(PlainPickle.float)) }
            return .dict(d)
        }
        return .dict(["imlist": .list(gt.imlist.map(PlainPickle.string)), "qimlist": .list(gt.queries.map { .string($0.name) }),
                      "gnd": .list(gnd)])
    }

    /// A scene: a colour gradient with random coloured blocks.
    static func scene(size: Int, seed: UInt64, stream: UInt64) throws -> RGBImage {
        var rng = SeededRandom(seed: seed, stream: [0, stream])
        let base = (0..<3).map { _ in rng.uniform(40.0, 200.0) }
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                for c in 0..<3 { pixels[(y * size + x) * 3 + c] = SyntheticData.clamp(base[c] + Double(c == 0 ? x : y) * 40 / Double(size)) }
            }
        }
        for _ in 0..<10 {
            let colour = SyntheticData.hueColor(rng.uniformDouble())
            let x0 = Int(rng.uniform(0, Double(size) * 0.8)), y0 = Int(rng.uniform(0, Double(size) * 0.8))
            let w = Int(rng.uniform(4, Double(size) * 0.4)), h = Int(rng.uniform(4, Double(size) * 0.4))
            for y in y0..<min(size, y0 + h) {
                for x in x0..<min(size, x0 + w) {
                    pixels[(y * size + x) * 3] = SyntheticData.clamp(colour.0)
                    pixels[(y * size + x) * 3 + 1] = SyntheticData.clamp(colour.1)
                    pixels[(y * size + x) * 3 + 2] = SyntheticData.clamp(colour.2)
                }
            }
        }
        return try RGBImage(width: size, height: size, pixels: pixels)
    }

    /// A square `window` of the scene at a random place, sampled to `size`, with per-channel
    /// gains of up to `colour` and pixel noise.
    static func view(_ scene: RGBImage, window: Double, size: Int, colour: Double, rng: inout SeededRandom) throws -> RGBImage {
        let x0 = rng.uniform(0, Double(scene.width) - window), y0 = rng.uniform(0, Double(scene.height) - window)
        let gains = (0..<3).map { _ in 1 + rng.uniform(-colour, colour) }
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let sx = min(scene.width - 1, Int(x0 + (Double(x) + 0.5) * window / Double(size)))
                let sy = min(scene.height - 1, Int(y0 + (Double(y) + 0.5) * window / Double(size)))
                for c in 0..<3 {
                    let v = Double(scene.pixels[(sy * scene.width + sx) * 3 + c]) * gains[c] + rng.uniform(-6.0, 6.0)
                    pixels[(y * size + x) * 3 + c] = SyntheticData.clamp(v)
                }
            }
        }
        return try RGBImage(width: size, height: size, pixels: pixels)
    }
}
