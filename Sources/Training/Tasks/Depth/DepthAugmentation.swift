import Foundation
import ImagePreprocessing
import Images
import Support

/// Meta's depth training augmentation (`make_depth_train_transforms` in dinov3/eval/depth/
/// transforms.py with config-nyu.yaml), one view at a time, in its order: the fixed NYU crop
/// (box x 43..<608, y 45..<472 of 640x480, scaled to the image; not the evaluation's Eigen
/// crop), a horizontal flip with probability 1/2, a random 416x544 crop (top, then left,
/// uniform), and with probability 1/2 `ColorAug`: v = (255 x) ^ gamma x brightness x colour[c],
/// clipped to [0, 255], / 255, with gamma U(0.9, 1.1), brightness U(0.75, 1.25) and one colour
/// factor U(0.9, 1.1) per channel. The image stays float (as Meta's tensor); the depth map moves
/// with it (crop, flip) and is never resampled.
///
/// Differences: Meta also rotates by U(-2.5, 2.5) degrees with probability 1/2 (bilinear for
/// the image, nearest for the depth): not done here. An image smaller than the crop is kept
/// whole and padded (0 after normalisation, depth 0 = ignored) where torchvision's RandomCrop
/// refuses it. The draws come from a `SeededRandom`, not numpy's and torch's generators.
public struct DepthAugmentation: Sendable, Codable, Equatable {
    public enum FixedCrop: String, Sendable, Codable { case nyu, full }

    public var fixedCrop: FixedCrop = .nyu
    public var cropWidth = 544
    public var cropHeight = 416
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
        public var flip: Bool
        /// The crop's offsets inside the fixed crop (of the flipped image when `flip`).
        public var top: Int
        public var left: Int
        /// ColorAug's gamma, brightness and three colour factors; nil when it is not applied.
        public var colour: (gamma: Float, brightness: Float, factors: [Float])?

        public init(flip: Bool, top: Int, left: Int, colour: (gamma: Float, brightness: Float, factors: [Float])?) {
            (self.flip, self.top, self.left, self.colour) = (flip, top, left, colour)
        }

        public static func == (a: Draws, b: Draws) -> Bool {
            (a.flip, a.top, a.left) == (b.flip, b.top, b.left) && a.colour?.gamma == b.colour?.gamma
                && a.colour?.brightness == b.colour?.brightness && a.colour?.factors == b.colour?.factors
        }
    }

    /// One augmented view of `image` and its `depth` (same size), drawn from `random`.
    public func view(image: RGBImage, depth: DepthMap, random: inout SeededRandom) throws -> View {
        guard (1...8192).contains(cropWidth), (1...8192).contains(cropHeight), [gamma, brightness, colour].allSatisfy(Self.isRange) else {
            throw ImageError.invalid("depth augmentation: crop \(cropWidth)x\(cropHeight) or factor ranges out of range")
        }
        let box = fixedBox(width: image.width, height: image.height)
        let flip = random.uniformDouble() < flipProbability
        let top = random.int(below: box.height - min(cropHeight, box.height) + 1)
        let left = random.int(below: box.width - min(cropWidth, box.width) + 1)
        var colourDraws: (gamma: Float, brightness: Float, factors: [Float])?
        if random.uniformDouble() < colourProbability {
            let g = Float(random.uniform(gamma[0], gamma[1])), b = Float(random.uniform(brightness[0], brightness[1]))
            colourDraws = (g, b, (0..<3).map { _ in Float(random.uniform(colour[0], colour[1])) })
        }
        return try view(image: image, depth: depth, draws: Draws(flip: flip, top: top, left: left, colour: colourDraws))
    }

    /// The view that `draws` choose (offsets beyond the fixed crop are clamped into it).
    public func view(image: RGBImage, depth: DepthMap, draws: Draws) throws -> View {
        guard image.width == depth.width, image.height == depth.height else {
            throw ImageError.invalid("the depth map is \(depth.width)x\(depth.height), the image \(image.width)x\(image.height)")
        }
        guard draws.colour.map({ $0.factors.count == 3 }) ?? true else { throw ImageError.invalid("ColorAug needs three colour factors") }
        let box = fixedBox(width: image.width, height: image.height)
        let (w, h) = (min(cropWidth, box.width), min(cropHeight, box.height))
        let top = min(max(draws.top, 0), box.height - h), left = min(max(draws.left, 0), box.width - w)
        // The flip comes before the crop in Meta's order: a crop `left` from the flipped box's
        // left edge is the mirror of one that far from its right edge.
        let x0 = box.x + (draws.flip ? box.width - w - left : left), y0 = box.y + top
        var cropped = depth.cropped(x: x0, y: y0, width: w, height: h)
        var pixels = [Float](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                let source = ((y0 + y) * image.width + x0 + (draws.flip ? w - 1 - x : x)) * 3
                for c in 0..<3 { pixels[(c * h + y) * w + x] = Float(image.pixels[source + c]) / 255 }
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
