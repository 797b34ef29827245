import Foundation
import Images
import Support

/// Something drawn as an RGB picture; PNG bytes and PNG files come with it.
public protocol Picture {
    /// The picture.
    func render() throws -> RGBImage
}

extension Picture {
    /// PNG bytes of the picture.
    public func pngData() throws -> Data { try render().pngData() }

    /// Writes the picture as PNG to `path` (whole file or nothing).
    public func write(to path: String) throws { try AtomicFile.write(pngData(), to: path) }
}

extension RGBImage {
    /// PNG bytes of the image (through the code base's one PNG writer).
    func pngData() throws -> Data {
        try PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: 3)
    }
}

/// Small pictures for galleries.
public enum Thumbnail {
    /// PNG bytes of `image` shrunk (antialiased, keeping its aspect ratio) so that its longer
    /// side is at most `maxSide` pixels; smaller images are kept as they are.
    public static func png(_ image: RGBImage, maxSide: Int) throws -> Data {
        try downscaled(image, maxSide: maxSide).pngData()
    }

    static func downscaled(_ image: RGBImage, maxSide: Int) throws -> RGBImage {
        guard maxSide >= 1 else { throw ImageError.invalid("thumbnail side \(maxSide) is not positive") }
        let longer = max(image.width, image.height)
        guard longer > maxSide else { return image }
        func side(_ s: Int) -> Int { max(1, Int((Double(s) * Double(maxSide) / Double(longer)).rounded())) }
        let (w, h) = (side(image.width), side(image.height))
        let planes = try ImageResampler.resample(image, plan: ResamplePlan(outputWidth: w, outputHeight: h))
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) {
            for c in 0..<3 { pixels[i * 3 + c] = UInt8(max(0, min(255, (planes[c * w * h + i] * 255).rounded()))) }
        }
        return try RGBImage(width: w, height: h, pixels: pixels)
    }
}
