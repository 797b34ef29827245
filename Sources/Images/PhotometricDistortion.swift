import Foundation
import Support

/// Meta's `PhotoMetricDistortion` (DINOv3's segmentation training augmentation) on 8-bit RGB:
/// brightness (+U(-32, 32)), contrast (x U(0.5, 1.5)) before or after the colour steps,
/// saturation (torchvision's `adjust_saturation`, factor U(0.5, 1.5)) and hue (torchvision's
/// `adjust_hue`, factor U(-0.5, 0.5)), each applied with probability 1/2. The arithmetic is
/// float32 with the truncating casts of numpy and torchvision, so the result equals theirs
/// (checked against torchvision in the tests).
public struct PhotometricDistortion: Sendable, Codable, Equatable {
    public var brightnessDelta: Double = 32
    public var contrast: [Double] = [0.5, 1.5]
    public var saturation: [Double] = [0.5, 1.5]
    public var hue: [Double] = [-0.5, 0.5]

    public init() {}

    /// The random choices of one application (doubles, as numpy draws them); nil means the
    /// step is skipped.
    public struct Draw: Sendable, Equatable {
        public var brightness: Double?
        public var contrastFirst: Bool
        public var contrast: Double?
        public var saturation: Double?
        public var hue: Double?

        public init(brightness: Double?, contrastFirst: Bool, contrast: Double?, saturation: Double?, hue: Double?) {
            (self.brightness, self.contrastFirst, self.contrast, self.saturation, self.hue) = (brightness, contrastFirst, contrast, saturation, hue)
        }
    }

    /// Draws in Meta's order: brightness, mode, contrast (mode 1), saturation, hue, contrast (mode 0).
    public func draw(random: inout SeededRandom) -> Draw {
        func maybe(_ range: [Double]) -> Double? { random.int(below: 2) == 1 ? random.uniform(range[0], range[1]) : nil }
        let brightness = maybe([-brightnessDelta, brightnessDelta])
        let contrastFirst = random.int(below: 2) == 1
        let early = contrastFirst ? maybe(contrast) : nil
        let saturationFactor = maybe(saturation)
        let hueFactor = maybe(hue)
        let late = contrastFirst ? nil : maybe(contrast)
        return Draw(brightness: brightness, contrastFirst: contrastFirst, contrast: early ?? late, saturation: saturationFactor, hue: hueFactor)
    }

    /// `image` distorted with draws from `random`.
    public func apply(_ image: RGBImage, random: inout SeededRandom) -> RGBImage {
        Self.apply(image, draw(random: &random))
    }

    /// `image` distorted as `draw` says.
    public static func apply(_ image: RGBImage, _ draw: Draw) -> RGBImage {
        var px = image.pixels
        if let beta = draw.brightness { affine(&px, alpha: 1, beta: Float(beta)) }
        if draw.contrastFirst, let alpha = draw.contrast { affine(&px, alpha: Float(alpha), beta: 0) }
        if let factor = draw.saturation { adjustSaturation(&px, factor: factor) }
        if let factor = draw.hue { adjustHue(&px, factor: factor) }
        if !draw.contrastFirst, let alpha = draw.contrast { affine(&px, alpha: Float(alpha), beta: 0) }
        return RGBImage(uncheckedWidth: image.width, height: image.height, pixels: px)
    }

    /// numpy's `clip(x.astype(float32) * alpha + beta, 0, 255).astype(uint8)`.
    static func affine(_ px: inout [UInt8], alpha: Float, beta: Float) {
        for i in px.indices { px[i] = truncated(Float(px[i]) * alpha + beta) }
    }

    /// torchvision's `adjust_saturation` on uint8: a blend with the truncated grey level (the
    /// weights `factor` and `1 - factor` computed in double, used in float32).
    static func adjustSaturation(_ px: inout [UInt8], factor ratio: Double) {
        let (factor, other) = (Float(ratio), Float(1.0 - ratio))
        for i in stride(from: 0, to: px.count, by: 3) {
            let grey = Float(truncated(Float(0.2989) * Float(px[i]) + Float(0.587) * Float(px[i + 1]) + Float(0.114) * Float(px[i + 2])))
            for c in 0..<3 { px[i + c] = truncated(factor * Float(px[i + c]) + other * grey) }
        }
    }

    /// torchvision's `adjust_hue` on uint8: to float (/255), HSV, hue shifted modulo 1, back to RGB,
    /// to uint8 (x 255.999, truncated).
    static func adjustHue(_ px: inout [UInt8], factor shift: Double) {
        let factor = Float(shift)
        for i in stride(from: 0, to: px.count, by: 3) {
            let (r, g, b) = (Float(px[i]) / 255, Float(px[i + 1]) / 255, Float(px[i + 2]) / 255)
            var (h, s, v) = hsv(r, g, b)
            h = h + factor
            h = h - (h / 1).rounded(.down)  // Python-style remainder: the result has the divisor's sign
            let rgb = rgbFromHSV(h, s, v)
            let scale = Float(255 + 1.0 - 1e-3)
            (px[i], px[i + 1], px[i + 2]) = (truncated(rgb.0 * scale), truncated(rgb.1 * scale), truncated(rgb.2 * scale))
        }
    }

    /// torchvision's `_rgb2hsv` for one pixel (float32, values in 0...1).
    static func hsv(_ r: Float, _ g: Float, _ b: Float) -> (Float, Float, Float) {
        let maxc = max(r, g, b), minc = min(r, g, b)
        let equal = maxc == minc
        let cr = maxc - minc
        let s = cr / (equal ? 1 : maxc)
        let divisor = equal ? 1 : cr
        let rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor
        let h: Float
        if maxc == r { h = bc - gc } else if maxc == g { h = 2 + rc - bc } else { h = 4 + gc - rc }
        return (fmodf(h / 6 + 1, 1), s, maxc)
    }

    /// torchvision's `_hsv2rgb` for one pixel.
    static func rgbFromHSV(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
        let sector = (h * 6).rounded(.down)
        let f = h * 6 - sector
        let p = min(max(v * (1 - s), 0), 1), q = min(max(v * (1 - s * f), 0), 1), t = min(max(v * (1 - s * (1 - f)), 0), 1)
        switch ((Int(sector) % 6) + 6) % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    /// Clamped to 0...255 and truncated, as a float-to-uint8 cast after clipping.
    static func truncated(_ x: Float) -> UInt8 {
        UInt8(min(max(x, 0), 255).rounded(.towardZero))
    }
}
