import Foundation
import Support

/// torchvision's `RandomResizedCrop` (Meta's classification training transform, with a
/// horizontal flip of probability 0.5): a box covering a random share `scale` of the image with a
/// random aspect ratio in `ratio` (log-uniform), resized to `size` x `size` with antialiased
/// bicubic interpolation.
public struct RandomResizedCrop: Sendable, Equatable, Codable {
    public var size: Int
    public var scale: [Double]
    public var ratio: [Double]
    /// Probability of mirroring the view left-right.
    public var flipProbability: Double

    /// Meta's: 224, scale 0.08 to 1, ratio 3/4 to 4/3, flip 0.5.
    public init(size: Int = 224, scale: [Double] = [0.08, 1], ratio: [Double] = [3.0 / 4, 4.0 / 3], flipProbability: Double = 0.5) {
        (self.size, self.scale, self.ratio, self.flipProbability) = (size, scale, ratio, flipProbability)
    }

    /// A crop box in pixels of the source image.
    public struct Box: Sendable, Equatable {
        public var x: Int, y: Int, width: Int, height: Int

        public init(x: Int, y: Int, width: Int, height: Int) {
            (self.x, self.y, self.width, self.height) = (x, y, width, height)
        }
    }

    /// `get_params` of torchvision: up to 10 draws of an area share and a log-uniform aspect
    /// ratio (sides rounded half to even, as Python's `round`), kept when the box fits, at a
    /// uniform position; otherwise the largest centred box whose ratio is within `ratio`.
    public func box(width: Int, height: Int, random: inout SeededRandom) -> Box {
        let area = Double(width * height)
        let logRatio = (Foundation.log(ratio[0]), Foundation.log(ratio[1]))
        for _ in 0..<10 {
            let target = area * random.uniform(scale[0], scale[1])
            let aspect = Foundation.exp(random.uniform(logRatio.0, logRatio.1))
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= width, h > 0, h <= height {
                let y = random.int(below: height - h + 1), x = random.int(below: width - w + 1)
                return Box(x: x, y: y, width: w, height: h)
            }
        }
        let inRatio = Double(width) / Double(height)
        var (w, h) = (width, height)
        if inRatio < ratio[0] {
            h = Int((Double(w) / ratio[0]).rounded(.toNearestOrEven))
        } else if inRatio > ratio[1] {
            w = Int((Double(h) * ratio[1]).rounded(.toNearestOrEven))
        }
        return Box(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }

    /// One view of `image`: its box and flip drawn from `random`, the box cut out and resized.
    /// Planar RGB floats [3, size, size] in 0...1 (normalise with `Preprocessing.normalise`).
    public func view(of image: RGBImage, random: inout SeededRandom) throws -> (pixels: [Float], box: Box, mirrored: Bool) {
        let b = box(width: image.width, height: image.height, random: &random)
        let mirrored = random.uniformDouble() < flipProbability
        return (try Self.resizedCrop(image, box: b, size: size, mirrored: mirrored), b, mirrored)
    }

    /// torchvision's `resized_crop`: `box` cut out of `image`, resized to `size` x `size`
    /// (antialiased bicubic), optionally mirrored. Planar RGB floats [3, size, size] in 0...1.
    public static func resizedCrop(_ image: RGBImage, box b: Box, size: Int, mirrored: Bool) throws -> [Float] {
        guard b.x >= 0, b.y >= 0, b.width > 0, b.height > 0, b.x + b.width <= image.width, b.y + b.height <= image.height else {
            throw ImageError.invalid("crop \(b.width)x\(b.height) at (\(b.x), \(b.y)) does not fit a \(image.width)x\(image.height) image")
        }
        var pixels = [UInt8](repeating: 0, count: b.width * b.height * 3)
        for row in 0..<b.height {
            let source = ((b.y + row) * image.width + b.x) * 3
            pixels.replaceSubrange((row * b.width * 3)..<((row + 1) * b.width * 3), with: image.pixels[source..<(source + b.width * 3)])
        }
        let cut = RGBImage(uncheckedWidth: b.width, height: b.height, pixels: pixels)
        return try ImageResampler.resample(cut, plan: ResamplePlan(outputWidth: size, outputHeight: size, bicubic: true, mirrored: mirrored))
    }
}
