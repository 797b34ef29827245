import Foundation
import Images

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
