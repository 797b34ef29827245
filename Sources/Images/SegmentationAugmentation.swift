import Foundation
import Support

/// Meta's ADE20K training augmentation (`make_segmentation_train_transforms` in DINOv3's
/// segmentation eval), one view at a time: the short side resized to int(`size` x U(0.5, 2.0))
/// (bilinear for the image, nearest for the labels), a random `size` x `size` crop redrawn up to
/// 10 times until no class covers 75% or more of its labelled pixels, a horizontal flip with
/// probability 1/2, the photometric distortion, normalisation, and padding to `size` x `size`
/// (0 after normalisation, label `ignoreIndex`). An image so elongated that its resize would
/// exceed 64 x `size`^2 pixels is refused rather than resized.
/// Difference: the image is resized by this package's antialiased bilinear filter (PyTorch's, in
/// float32) and rounded, where Meta resizes the PIL image with PIL's fixed-point filter; the
/// two differ by at most one level (measured in the tests).
public struct SegmentationAugmentation: Sendable, Codable, Equatable {
    public var size: Int
    public var ratio: [Double] = [0.5, 2.0]
    public var catMaxRatio: Double = 0.75
    public var flipProbability: Double = 0.5
    public var photometric: PhotometricDistortion? = PhotometricDistortion()
    public var ignoreIndex: UInt8 = 255

    public init(size: Int) { self.size = size }

    /// One training view: the distorted crop (at most `size` x `size`, before padding) and the
    /// labels padded to `size` x `size`.
    public struct View: Sendable {
        public var image: RGBImage
        public var labels: [UInt8]
        public var size: Int

        /// Planar normalised pixels [3, size, size], zero (after normalisation) outside the crop.
        public func pixels(_ preprocessing: Preprocessing) -> [Float] {
            let (w, h) = (image.width, image.height)
            var planar = [Float](repeating: 0, count: 3 * w * h)
            for p in 0..<(w * h) { for c in 0..<3 { planar[c * w * h + p] = Float(image.pixels[p * 3 + c]) / 255 } }
            let normalised = preprocessing.normalise(planar, plane: w * h)
            var out = [Float](repeating: 0, count: 3 * size * size)
            for c in 0..<3 {
                for y in 0..<h {
                    let from = c * w * h + y * w, to = c * size * size + y * size
                    out.replaceSubrange(to..<(to + w), with: normalised[from..<(from + w)])
                }
            }
            return out
        }
    }

    /// The image and label sizes after the random resize: the short side int(size x ratio), the
    /// long side in proportion, rounded half up.
    func resizedSize(width: Int, height: Int, ratio r: Double) -> (width: Int, height: Int) {
        let short = max(1, Int(Double(size) * r))
        if height > width { return (short, max(1, Int(Double(short) * Double(height) / Double(width) + 0.5))) }
        return (max(1, Int(Double(short) * Double(width) / Double(height) + 0.5)), short)
    }

    /// One augmented view of `image` and its `mask` (same size; labels already mapped), drawn
    /// from `random`.
    public func view(image: RGBImage, mask: LabelMask, random: inout SeededRandom) throws -> View {
        guard image.width == mask.width, image.height == mask.height else {
            throw ImageError.invalid("the mask is \(mask.width)x\(mask.height), the image \(image.width)x\(image.height)")
        }
        guard (1...8192).contains(size), ratio.count == 2, ratio[0] > 0, ratio[0] <= ratio[1], ratio[1] <= 8 else {
            throw ImageError.invalid("augmentation size \(size) or ratio \(ratio) out of range")
        }
        let (w, h) = resizedSize(width: image.width, height: image.height, ratio: random.uniformDouble() * (ratio[1] - ratio[0]) + ratio[0])
        guard w.multipliedReportingOverflow(by: h).partialValue <= 64 * size * size, w <= 65_536, h <= 65_536 else {
            throw ImageError.invalid("a \(image.width)x\(image.height) image would be resized to \(w)x\(h) for a \(size) crop: too elongated to augment")
        }
        let resized = try Self.resizedBilinear(image, width: w, height: h)
        let labels = mask.resized(width: w, height: h)
        let (x0, y0) = cropOrigin(labels: labels.labels, width: w, height: h, random: &random)
        let (cw, ch) = (min(size, w - x0), min(size, h - y0))
        var cropImage = [UInt8](repeating: 0, count: cw * ch * 3)
        for y in 0..<ch {
            let row = (y0 + y) * w + x0
            cropImage.replaceSubrange((y * cw * 3)..<((y + 1) * cw * 3), with: resized.pixels[(row * 3)..<((row + cw) * 3)])
        }
        var view = RGBImage(uncheckedWidth: cw, height: ch, pixels: cropImage)
        var cropLabels = labels.cropped(x: x0, y: y0, width: cw, height: ch)
        if random.uniformDouble() < flipProbability {
            view = view.mirrored()
            cropLabels = cropLabels.mirrored()
        }
        if let photometric { view = photometric.apply(view, random: &random) }
        return View(image: view, labels: cropLabels.padded(width: size, height: size, fill: ignoreIndex).labels, size: size)
    }

    /// Meta's `RandomCropWithLabel`: an origin (y then x, uniform over the margins), redrawn up to
    /// 10 times while one class covers `catMaxRatio` or more of the crop's labelled pixels or
    /// fewer than two classes are present; the last draw stands.
    func cropOrigin(labels: [UInt8], width w: Int, height h: Int, random: inout SeededRandom) -> (x: Int, y: Int) {
        func draw() -> (x: Int, y: Int) {
            let y = random.int(below: max(h - size, 0) + 1)
            return (random.int(below: max(w - size, 0) + 1), y)
        }
        var origin = draw()
        guard catMaxRatio < 1 else { return origin }
        for _ in 0..<10 {
            var counts = [Int](repeating: 0, count: 256)
            for y in origin.y..<min(origin.y + size, h) {
                for x in origin.x..<min(origin.x + size, w) { counts[Int(labels[y * w + x])] += 1 }
            }
            counts[Int(ignoreIndex)] = 0
            let present = counts.filter { $0 > 0 }
            if present.count > 1, Double(present.max() ?? 0) / Double(present.reduce(0, +)) < catMaxRatio { break }
            origin = draw()
        }
        return origin
    }

    /// `image` resized to `width` x `height` by the antialiased bilinear filter, rounded to 8 bits.
    static func resizedBilinear(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
        let planar = try ImageResampler.resample(image, plan: ResamplePlan(outputWidth: width, outputHeight: height))
        let plane = width * height
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for p in 0..<plane { for c in 0..<3 { pixels[p * 3 + c] = UInt8(min(max((planar[c * plane + p] * 255).rounded(), 0), 255)) } }
        return RGBImage(uncheckedWidth: width, height: height, pixels: pixels)
    }
}
