import Foundation
import Images
import Support

extension SyntheticData {
    /// The categories of `makeCorrespondenceFolder`: each a body with coloured parts at fixed
    /// places (x, y in units of the object's scale; the parts' centres are the keypoints).
    static let keypointCategories: [(name: String, parts: [(x: Double, y: Double)], body: (Double, Double, Double))] = [
        ("kite", [(-0.8, -0.5), (0.9, -0.6), (0.0, 0.9), (-0.3, 0.1), (0.5, 0.4)], (150, 150, 150)),
        ("robot", [(-0.7, -0.8), (0.7, -0.8), (-0.9, 0.6), (0.9, 0.7), (0.0, 0.0), (0.0, -0.5)], (110, 90, 70)),
    ]
    /// The category names of `makeCorrespondenceFolder`.
    public static var keypointCategoryNames: [String] { keypointCategories.map(\.name) }
    static let partColours: [(Double, Double, Double)] = [(230, 30, 30), (30, 200, 40), (40, 60, 230), (240, 220, 30), (220, 40, 220), (30, 210, 220)]

    /// Writes a small SPair-71k layout: `JPEGImages/<category>/<split>_<i>.jpg` and
    /// `PairAnnotation/<split>/<pair>.json` for the splits trn, val and test, `pairs` pairs per
    /// category and split. Each image shows the category's object at its own position and
    /// scale, mirrored in some; one part is hidden in some images, and a pair lists only the
    /// parts visible in both. Images are at most `size` pixels wide or tall, not square.
    /// Returns the number of pair files written.
    @discardableResult
    public static func makeCorrespondenceFolder(root: String, pairs: Int, size: Int = 128, seed: UInt64 = 0) throws -> Int {
        guard (1...10_000).contains(pairs) else { throw DatasetError.invalidParameter("pairs must be 1...10000 (got \(pairs))") }
        guard (48...2048).contains(size) else { throw DatasetError.invalidParameter("size must be 48...2048 pixels (got \(size))") }
        let root = try prepare(root)
        var written = 0
        for (s, split) in ["trn", "val", "test"].enumerated() {
            for (c, category) in keypointCategories.enumerated() {
                let images = try (0...pairs).map { i -> KeypointImage in
                    var rng = SeededRandom(seed: seed, stream: [4, UInt64(s), UInt64(c), UInt64(i)])
                    let image = try keypointImage(category: c, size: size, rng: &rng)
                    try JPEGEncoder.write(image.pixels, to: "\(root)/JPEGImages/\(category.name)/\(split)_\(i).jpg", quality: 95)
                    return image
                }
                for i in 0..<pairs {
                    let name = "\(split)_\(i)-\(split)_\(i + 1):\(category.name)"
                    try AtomicFile.write(pairJSON(images[i], images[i + 1], names: ("\(split)_\(i)", "\(split)_\(i + 1)"), category: category.name),
                                         to: "\(root)/PairAnnotation/\(split)/\(name).json")
                    written += 1
                }
            }
        }
        return written
    }

    struct KeypointImage {
        var pixels: RGBImage
        /// Each part's centre (pixel index), nil where hidden.
        var parts: [(x: Int, y: Int)?]
        var box: [Int]
    }

    static func keypointImage(category c: Int, size: Int, rng: inout SeededRandom) throws -> KeypointImage {
        let (w, h) = (Int(Double(size) * rng.uniform(0.7, 1.0)), Int(Double(size) * rng.uniform(0.7, 1.0)))
        let scale = Double(min(w, h)) * rng.uniform(0.22, 0.3), mirror = rng.int(below: 2) == 1
        let cx = Double(w) / 2 + rng.uniform(-0.15, 0.15) * Double(w), cy = Double(h) / 2 + rng.uniform(-0.15, 0.15) * Double(h)
        let category = keypointCategories[c], hidden = rng.int(below: 3) == 0 ? rng.int(below: category.parts.count) : -1
        let radius = scale * 0.28
        let centres = category.parts.map { (x: cx + (mirror ? -$0.x : $0.x) * scale, y: cy + $0.y * scale) }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let (px, py) = (Double(x) + 0.5, Double(y) + 0.5)
                let noise: Double = rng.uniform(-12, 12)
                var rgb = (100 + noise + Double((x / 6 + y / 6) % 2) * 25, 120 + noise, 100 + noise)  // checkered background
                if abs(px - cx) <= scale * 1.05 && abs(py - cy) <= scale * 1.05 { rgb = category.body }
                for (k, p) in centres.enumerated() where k != hidden && (px - p.x) * (px - p.x) + (py - p.y) * (py - p.y) <= radius * radius {
                    rgb = partColours[k]
                }
                let o = (y * w + x) * 3
                (pixels[o], pixels[o + 1], pixels[o + 2]) = (clamp(rgb.0 + noise), clamp(rgb.1 + noise), clamp(rgb.2 + noise))
            }
        }
        let parts = centres.enumerated().map { k, p in k == hidden ? nil : (x: min(max(Int(p.x), 0), w - 1), y: min(max(Int(p.y), 0), h - 1)) }
        let box = [Int(max(0, cx - scale * 1.05)), Int(max(0, cy - scale * 1.05)), Int(min(Double(w), cx + scale * 1.05)), Int(min(Double(h), cy + scale * 1.05))]
        return KeypointImage(pixels: try RGBImage(width: w, height: h, pixels: pixels), parts: parts, box: box)
    }

    /// A pair file in SPair's fields, listing the parts visible in both images.
    static func pairJSON(_ a: KeypointImage, _ b: KeypointImage, names: (String, String), category: String) throws -> Data {
        let both = a.parts.indices.filter { a.parts[$0] != nil && b.parts[$0] != nil }
        let object: [String: Any] = [
            "filename": "\(names.0)-\(names.1):\(category)", "category": category,
            "src_imname": names.0 + ".jpg", "trg_imname": names.1 + ".jpg",
            "src_imsize": [a.pixels.width, a.pixels.height, 3], "trg_imsize": [b.pixels.width, b.pixels.height, 3],
            "src_bndbox": a.box, "trg_bndbox": b.box, "kps_ids": both,
            "src_kps": both.compactMap { a.parts[$0].map { [$0.x, $0.y] } }, "trg_kps": both.compactMap { b.parts[$0].map { [$0.x, $0.y] } },
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
