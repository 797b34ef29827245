import Foundation
import Support
import Images

/// Small generated data sets for tests and demos: classes that differ visibly (colour, shape,
/// texture), deterministic for a seed, written as PNG through `PNGEncoder` (atomically).
///
/// The generators only write into an empty or missing folder, or one they generated before
/// (it holds a `.dinoprobe-synthetic` marker), so they never overwrite your files.
public enum SyntheticData {
    /// Marker file written into every generated root.
    public static let marker = ".dinoprobe-synthetic"

    /// Class names of `makeSegmentationFolder`, in label order.
    public static let segmentationClassNames = ["background", "disc", "square", "stripes"]

    /// Writes an ImageFolder `root/train/class_XX/img_YYY.png` (`perClass` per class) and
    /// `root/val/class_XX/...` (`valPerClass`, default `perClass`) of `size` x `size` images.
    /// Class c has its own hue and shape (disc, square, triangle, stripes in turn) on a noisy
    /// grey background; position, scale and noise vary per image. Returns the class folder names.
    @discardableResult
    public static func makeClassificationFolder(root: String, classes: Int, perClass: Int, valPerClass: Int? = nil,
                                                size: Int = 32, seed: UInt64 = 0) throws -> [String] {
        let valCount = valPerClass ?? perClass
        guard classes >= 2, classes <= 1000 else { throw DatasetError.invalidParameter("classes must be 2...1000 (got \(classes))") }
        guard perClass >= 1, valCount >= 0 else { throw DatasetError.invalidParameter("perClass must be at least 1 and valPerClass at least 0") }
        guard (8 ... 2048).contains(size) else { throw DatasetError.invalidParameter("size must be 8...2048 pixels (got \(size))") }
        let root = try prepare(root)
        let digits = String(classes - 1).count
        let names = (0 ..< classes).map { "class_" + String(repeating: "0", count: digits - String($0).count) + String($0) }
        for (split, count) in [(DatasetSplit.train, perClass), (.val, valCount)] {
            for (c, name) in names.enumerated() {
                for i in 0 ..< count {
                    var rng = SeededRandom(seed: seed, stream: [UInt64(split == .train ? 0 : 1), UInt64(c), UInt64(i)])
                    let image = try classificationImage(classIndex: c, classes: classes, size: size, rng: &rng)
                    try PNGEncoder.write(image, to: "\(root)/\(split.rawValue)/\(name)/img_\(String(format: "%03d", i)).png")
                }
            }
        }
        return names
    }

    /// Writes the plain segmentation layout (see `SegmentationFolder`): `classes.txt` with
    /// `segmentationClassNames`, `count` train pairs and `valCount` (default max(1, count / 4)) val
    /// pairs of `size` x `size` images with 1 to 3 shapes on a textured background. Masks are
    /// palette PNGs holding each pixel's class exactly; with `ignoreBorder` the pixels where two
    /// classes meet are 255 (as in Pascal VOC). Returns the pairs written.
    @discardableResult
    public static func makeSegmentationFolder(root: String, count: Int, valCount: Int? = nil, size: Int = 32, seed: UInt64 = 0,
                                              ignoreBorder: Bool = false) throws -> (train: [SegmentationSample], val: [SegmentationSample]) {
        let valCount = valCount ?? max(1, count / 4)
        guard count >= 1, valCount >= 0 else { throw DatasetError.invalidParameter("count must be at least 1 and valCount at least 0") }
        guard (8 ... 2048).contains(size) else { throw DatasetError.invalidParameter("size must be 8...2048 pixels (got \(size))") }
        let root = try prepare(root)
        try AtomicFile.write(Data((segmentationClassNames.joined(separator: "\n") + "\n").utf8), to: root + "/classes.txt")
        let palette = Palette.voc(count: 256)
        var written: [DatasetSplit: [SegmentationSample]] = [:]
        for (split, n) in [(DatasetSplit.train, count), (.val, valCount)] {
            for i in 0 ..< n {
                var rng = SeededRandom(seed: seed, stream: [UInt64(split == .train ? 2 : 3), UInt64(i)])
                let (image, labels) = try segmentationPair(size: size, ignoreBorder: ignoreBorder, rng: &rng)
                let name = String(format: "scene_%04d", i)
                let sample = SegmentationSample(image: "\(root)/images/\(split.rawValue)/\(name).png", mask: "\(root)/masks/\(split.rawValue)/\(name).png")
                try PNGEncoder.write(image, to: sample.image)
                try PNGEncoder.writeIndexed(labels, width: size, height: size, palette: palette, to: sample.mask)
                written[split, default: []].append(sample)
            }
        }
        return (written[.train] ?? [], written[.val] ?? [])
    }

    /// Makes `root` (absolute) ready to write into, or throws if it holds files not generated here.
    public static func prepare(_ root: String) throws -> String {
        let root = FileSystem.absolute(root)
        let fm = FileManager.default
        if fm.fileExists(atPath: root) {
            guard FileSystem.isDirectory(root) else { throw DatasetError.invalidParameter("\(root) is a file; give a folder for the generated data set") }
            let entries = (try? fm.contentsOfDirectory(atPath: root)) ?? []
            guard entries.isEmpty || entries.contains(marker) else {
                throw DatasetError.invalidParameter("\(root) is not empty and was not generated by dinoprobe; choose an empty or new folder (nothing was written)")
            }
        }
        try AtomicFile.write(Data("generated by dinoprobe SyntheticData\n".utf8), to: root + "/" + marker)
        return root
    }

    // MARK: drawing

    /// Fully saturated colour for hue h in [0, 1), scaled by `value`.
    public static func hueColor(_ h: Double, value: Double = 220) -> (Double, Double, Double) {
        let x = h * 6
        let f = x - floor(x)
        switch Int(x) % 6 {
        case 0: return (value, value * f, 0)
        case 1: return (value * (1 - f), value, 0)
        case 2: return (0, value, value * f)
        case 3: return (0, value * (1 - f), value)
        case 4: return (value * f, 0, value)
        default: return (value, 0, value * (1 - f))
        }
    }

    /// `v` rounded and clamped to a byte.
    public static func clamp(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }

    static func classificationImage(classIndex c: Int, classes: Int, size: Int, rng: inout SeededRandom) throws -> RGBImage {
        let color = hueColor(Double(c) / Double(classes))
        let shape = c % 4
        let s = Double(size)
        let cx = s * rng.uniform(0.35, 0.65), cy = s * rng.uniform(0.35, 0.65), r = s * rng.uniform(0.22, 0.34)
        let angle = rng.uniform(0, Double.pi)
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0 ..< size {
            for x in 0 ..< size {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let dx = px - cx, dy = py - cy
                let inside: Bool
                switch shape {
                case 0: inside = dx * dx + dy * dy <= r * r
                case 1: inside = abs(dx) <= r * 0.85 && abs(dy) <= r * 0.85
                case 2: inside = dy <= r * 0.7 && dy >= -r && abs(dx) <= (dy + r) * 0.6
                default: inside = abs(dx) <= r && abs(dy) <= r && Int(((px * cos(angle) + py * sin(angle)) / 3).rounded(.down)) % 2 == 0
                }
                let noise: Double = rng.uniform(-18, 18)
                let o = (y * size + x) * 3
                if inside {
                    pixels[o] = clamp(color.0 + noise); pixels[o + 1] = clamp(color.1 + noise); pixels[o + 2] = clamp(color.2 + noise)
                } else {
                    let g = 90 + noise
                    pixels[o] = clamp(g); pixels[o + 1] = clamp(g); pixels[o + 2] = clamp(g)
                }
            }
        }
        return try RGBImage(width: size, height: size, pixels: pixels)
    }

    static func segmentationPair(size: Int, ignoreBorder: Bool, rng: inout SeededRandom) throws -> (RGBImage, [UInt8]) {
        var labels = [UInt8](repeating: 0, count: size * size)
        let s = Double(size)
        for _ in 0 ..< 1 + rng.int(below: 3) {
            let kind = UInt8(1 + rng.int(below: 3))
            let cx = s * rng.uniform(0.2, 0.8), cy = s * rng.uniform(0.2, 0.8), r = s * rng.uniform(0.12, 0.3)
            for y in 0 ..< size {
                for x in 0 ..< size {
                    let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                    let inside = kind == 1 ? dx * dx + dy * dy <= r * r : abs(dx) <= r && abs(dy) <= r
                    if inside { labels[y * size + x] = kind }
                }
            }
        }
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0 ..< size {
            for x in 0 ..< size {
                let noise: Double = rng.uniform(-15, 15)
                let rgb: (Double, Double, Double)
                switch labels[y * size + x] {
                case 1: rgb = (210, 40, 40)  // flat red disc
                case 2: rgb = (x / 2 + y / 2) % 2 == 0 ? (40, 200, 60) : (20, 110, 30)  // green checker square
                case 3: rgb = (x + y) / 2 % 2 == 0 ? (50, 70, 220) : (200, 210, 250)  // blue diagonal stripes
                default: rgb = (120 + noise * 2, 115 + noise * 2, 100 + noise * 2)  // grainy beige background
                }
                let o = (y * size + x) * 3
                pixels[o] = clamp(rgb.0 + noise); pixels[o + 1] = clamp(rgb.1 + noise); pixels[o + 2] = clamp(rgb.2 + noise)
            }
        }
        if ignoreBorder {
            let original = labels
            for y in 0 ..< size {
                for x in 0 ..< size {
                    let l = original[y * size + x]
                    if (x + 1 < size && original[y * size + x + 1] != l) || (y + 1 < size && original[(y + 1) * size + x] != l) {
                        labels[y * size + x] = 255
                    }
                }
            }
        }
        return (try RGBImage(width: size, height: size, pixels: pixels), labels)
    }
}
