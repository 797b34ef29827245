import Foundation
import Images
import Support

extension SyntheticData {
    /// Writes a small DAVIS 2017 semi-supervised layout: `videos` videos of `frames` frames of
    /// `width` x `height` (JPEGImages/480p/V/00000.jpg, …), each with 1 to 3 textured objects
    /// (striped discs and squares of their own hue) moving across a noisy background, palette
    /// annotations (Annotations/480p/V/00000.png, object id = palette index, DAVIS's palette) and
    /// ImageSets/2017/val.txt naming every video. Returns the video names.
    @discardableResult
    public static func makeVideoFolder(root: String, videos: Int = 2, frames: Int = 8, width: Int = 128, height: Int = 80,
                                       seed: UInt64 = 0) throws -> [String] {
        guard (1...100).contains(videos), (3...500).contains(frames), (16...2048).contains(width), (16...2048).contains(height) else {
            throw DatasetError.invalidParameter("videos must be 1...100, frames 3...500 and sides 16...2048 pixels")
        }
        let root = try prepare(root)
        let names = (0..<videos).map { String(format: "video-%02d", $0) }
        let palette = Palette.voc()
        for (v, name) in names.enumerated() {
            var rng = SeededRandom(seed: seed, stream: [4, UInt64(v)])
            let objects = (0..<(1 + v % 3)).map { _ in MovingObject(rng: &rng, width: width, height: height, frames: frames) }
            let background = (0..<(width * height)).map { _ in 90 + 50 * rng.uniformDouble() }
            for t in 0..<frames {
                var pixels = [UInt8](repeating: 0, count: width * height * 3), labels = [UInt8](repeating: 0, count: width * height)
                for p in 0..<(width * height) {
                    let grey = clamp(background[p] + 12 * rng.uniformDouble())
                    (pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]) = (grey, grey, grey)
                }
                for (k, object) in objects.enumerated() { object.draw(at: t, id: UInt8(k + 1), width: width, into: &pixels, labels: &labels) }
                let stem = String(format: "%05d", t)
                try JPEGEncoder.write(try RGBImage(width: width, height: height, pixels: pixels), to: "\(root)/JPEGImages/480p/\(name)/\(stem).jpg", quality: 95)
                try PNGEncoder.writeIndexed(labels, width: width, height: height, palette: palette, to: "\(root)/Annotations/480p/\(name)/\(stem).png")
            }
        }
        try AtomicFile.write(Data((names.joined(separator: "\n") + "\n").utf8), to: root + "/ImageSets/2017/val.txt")
        return names
    }

    /// A disc or square with stripes in its own hue, moving in a straight line.
    struct MovingObject {
        var x: Double, y: Double, dx: Double, dy: Double, radius: Double, hue: Double, square: Bool

        init(rng: inout SeededRandom, width: Int, height: Int, frames: Int) {
            let (w, h) = (Double(width), Double(height))
            radius = min(w, h) * rng.uniform(0.12, 0.22)
            (x, y) = (w * rng.uniform(0.25, 0.75), h * rng.uniform(0.3, 0.7))
            (dx, dy) = (w * rng.uniform(-0.3, 0.3) / Double(frames), h * rng.uniform(-0.3, 0.3) / Double(frames))
            (hue, square) = (rng.uniformDouble(), rng.uniformDouble() < 0.5)
        }

        func draw(at t: Int, id: UInt8, width: Int, into pixels: inout [UInt8], labels: inout [UInt8]) {
            let (cx, cy) = (x + dx * Double(t), y + dy * Double(t))
            let colour = SyntheticData.hueColor(hue)
            for p in 0..<labels.count {
                let (u, v) = (Double(p % width) + 0.5 - cx, Double(p / width) + 0.5 - cy)
                guard square ? max(abs(u), abs(v)) <= radius : u * u + v * v <= radius * radius else { continue }
                let shade = Int((u + v + 100 * radius) / 4) % 2 == 0 ? 1.0 : 0.55
                (pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]) = (clamp(colour.0 * shade), clamp(colour.1 * shade), clamp(colour.2 * shade))
                labels[p] = id
            }
        }
    }
}
