import Foundation
import ImagePreprocessing
import Images
import Support

/// Meta's depth training augmentation (`make_depth_train_transforms` in dinov3/eval/depth/
/// transforms.py with config-nyu.yaml), one view at a time, in its order: the fixed NYU crop
/// (box x 43..<608, y 45..<472 of 640x480, scaled to the image; not the evaluation's Eigen
/// crop), with probability 1/2 a rotation by U(-2.5, 2.5) degrees (torchvision's bilinear
/// rotate with fill 0 for the image, nearest for the depth, as Meta's `depth_rotate`), a
/// horizontal flip with probability 1/2, a random 416x544 crop (top, then left, uniform), and
/// with probability 1/2 `ColorAug`: v = (255 x) ^ gamma x brightness x colour[c], clipped to
/// [0, 255], / 255, with gamma U(0.9, 1.1), brightness U(0.75, 1.25) and one colour factor
/// U(0.9, 1.1) per channel. The image stays float (as Meta's tensor).
///
/// Differences: an image smaller than the crop is kept whole and padded (0 after
/// normalisation, depth 0 = ignored) where torchvision's RandomCrop refuses it; the draws come
/// from a `SeededRandom`, not numpy's and torch's generators.
public struct DepthAugmentation: Sendable, Codable, Equatable {
    public enum FixedCrop: String, Sendable, Codable { case nyu, full }

    public var fixedCrop: FixedCrop = .nyu
    public var cropWidth = 544
    public var cropHeight = 416
    public var rotationProbability = 0.5
    /// Rotations are U(-maxRotation, maxRotation) degrees.
    public var maxRotation = 2.5
    public var flipProbability = 0.5
    public var colourProbability = 0.5
    public var gamma: [Double] = [0.9, 1.1]
    public var brightness: [Double] = [0.75, 1.25]
    public var colour: [Double] = [0.9, 1.1]

    public init(fixedCrop: FixedCrop = .nyu) { self.fixedCrop = fixedCrop }

    /// One training view: planar RGB in [0, 1] of the crop (`width` x `height`, at most the crop
    /// size) and its depth map padded with 0 to `cropWidth` x `cropHeight`.
    public struct View: Sendable {
        public var pixels: [Float]
        public var width: Int
        public var height: Int
        public var depth: DepthMap

        /// Normalised planar pixels [3, depth.height, depth.width], 0 (after normalisation) in the padding.
        public func normalised(_ preprocessing: Preprocessing) -> [Float] {
            let normalised = preprocessing.normalise(pixels, plane: width * height)
            let (w, h) = (depth.width, depth.height)
            var out = [Float](repeating: 0, count: 3 * w * h)
            for c in 0..<3 {
                for y in 0..<height {
                    let from = (c * height + y) * width
                    out.replaceSubrange((c * h + y) * w..<((c * h + y) * w + width), with: normalised[from..<(from + width)])
                }
            }
            return out
        }
    }

    /// Meta's `NYUCrop` box in a `width` x `height` image: x int(43/640 w)..<int(608/640 w),
    /// y int(45/480 h)..<int(472/480 h).
    public static func nyuCropBox(width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let (x1, x2) = (Int(43.0 / 640 * Double(width)), Int(608.0 / 640 * Double(width)))
        let (y1, y2) = (Int(45.0 / 480 * Double(height)), Int(472.0 / 480 * Double(height)))
        return (x1, y1, max(1, x2 - x1), max(1, y2 - y1))
    }

    /// The random choices of one view, in Meta's draw order.
    public struct Draws: Sendable, Equatable {
        /// The rotation in degrees (counter-clockwise), nil when none.
        public var rotation: Float?
        public var flip: Bool
        /// The crop's offsets inside the fixed crop (of the flipped image when `flip`).
        public var top: Int
        public var left: Int
        /// ColorAug's gamma, brightness and three colour factors; nil when it is not applied.
        public var colour: (gamma: Float, brightness: Float, factors: [Float])?

        public init(rotation: Float?, flip: Bool, top: Int, left: Int, colour: (gamma: Float, brightness: Float, factors: [Float])?) {
            (self.rotation, self.flip, self.top, self.left, self.colour) = (rotation, flip, top, left, colour)
        }

        public static func == (a: Draws, b: Draws) -> Bool {
            (a.rotation, a.flip, a.top, a.left) == (b.rotation, b.flip, b.top, b.left) && a.colour?.gamma == b.colour?.gamma
                && a.colour?.brightness == b.colour?.brightness && a.colour?.factors == b.colour?.factors
        }
    }

    /// One augmented view of `image` and its `depth` (same size), drawn from `random`.
    public func view(image: RGBImage, depth: DepthMap, random: inout SeededRandom) throws -> View {
        guard (1...8192).contains(cropWidth), (1...8192).contains(cropHeight), [gamma, brightness, colour].allSatisfy(Self.isRange), (0...45).contains(maxRotation) else {
            throw ImageError.invalid("depth augmentation: crop \(cropWidth)x\(cropHeight) or factor ranges out of range")
        }
        let box = fixedBox(width: image.width, height: image.height)
        let rotation = random.uniformDouble() < rotationProbability ? Float(random.uniform(-maxRotation, maxRotation)) : nil
        let flip = random.uniformDouble() < flipProbability
        let top = random.int(below: box.height - min(cropHeight, box.height) + 1)
        let left = random.int(below: box.width - min(cropWidth, box.width) + 1)
        var colourDraws: (gamma: Float, brightness: Float, factors: [Float])?
        if random.uniformDouble() < colourProbability {
            let g = Float(random.uniform(gamma[0], gamma[1])), b = Float(random.uniform(brightness[0], brightness[1]))
            colourDraws = (g, b, (0..<3).map { _ in Float(random.uniform(colour[0], colour[1])) })
        }
        return try view(image: image, depth: depth, draws: Draws(rotation: rotation, flip: flip, top: top, left: left, colour: colourDraws))
    }

    /// The view that `draws` choose (offsets beyond the fixed crop are clamped into it).
    public func view(image: RGBImage, depth: DepthMap, draws: Draws) throws -> View {
        guard image.width == depth.width, image.height == depth.height else {
            throw ImageError.invalid("the depth map is \(depth.width)x\(depth.height), the image \(image.width)x\(image.height)")
        }
        guard draws.colour.map({ $0.factors.count == 3 }) ?? true else { throw ImageError.invalid("ColorAug needs three colour factors") }
        let box = fixedBox(width: image.width, height: image.height)
        var planar = [Float](repeating: 0, count: 3 * box.width * box.height)
        for c in 0..<3 {
            for y in 0..<box.height {
                for x in 0..<box.width { planar[(c * box.height + y) * box.width + x] = Float(image.pixels[((box.y + y) * image.width + box.x + x) * 3 + c]) / 255 }
            }
        }
        var boxDepth = depth.cropped(x: box.x, y: box.y, width: box.width, height: box.height)
        if let degrees = draws.rotation {
            let rotation = RotationGrid(width: box.width, height: box.height, degrees: degrees)
            planar = rotation.bilinear(planar, channels: 3)
            boxDepth = DepthMap(uncheckedWidth: box.width, height: box.height, values: rotation.nearest(boxDepth.values))
        }
        let (w, h) = (min(cropWidth, box.width), min(cropHeight, box.height))
        let top = min(max(draws.top, 0), box.height - h), left = min(max(draws.left, 0), box.width - w)
        // The flip comes before the crop in Meta's order: a crop `left` from the flipped box's
        // left edge is the mirror of one that far from its right edge.
        let x0 = draws.flip ? box.width - w - left : left
        var cropped = boxDepth.cropped(x: x0, y: top, width: w, height: h)
        var pixels = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h {
                let row = (c * box.height + top + y) * box.width + x0
                for x in 0..<w { pixels[(c * h + y) * w + x] = planar[row + (draws.flip ? w - 1 - x : x)] }
            }
        }
        if draws.flip { cropped = cropped.mirrored() }
        if let c = draws.colour { Self.colourAugment(&pixels, plane: w * h, gamma: c.gamma, brightness: c.brightness, factors: c.factors) }
        return View(pixels: pixels, width: w, height: h, depth: cropped.padded(width: cropWidth, height: cropHeight))
    }

    func fixedBox(width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        fixedCrop == .nyu ? Self.nyuCropBox(width: width, height: height) : (0, 0, width, height)
    }

    /// Meta's `ColorAug` on planar [0, 1] pixels (the gamma applies to 0...255 values, as Meta's does).
    static func colourAugment(_ pixels: inout [Float], plane: Int, gamma: Float, brightness: Float, factors: [Float]) {
        for c in 0..<3 {
            for i in (c * plane)..<((c + 1) * plane) {
                pixels[i] = min(max(Foundation.pow(pixels[i] * 255, gamma) * brightness * factors[c], 0), 255) / 255
            }
        }
    }

    static func isRange(_ r: [Double]) -> Bool { r.count == 2 && r[0].isFinite && r[1].isFinite && r[0] > 0 && r[0] <= r[1] && r[1] <= 100 }
}
