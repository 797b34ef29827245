import Foundation
import Images

/// How images become pixel values.
public enum PreprocessPreset: String, Sendable, CaseIterable, Codable {
    /// `DINOv3ViTImageProcessor`: rescale, bilinear antialiased resize to S x S, normalise. No crop.
    case hf
    /// Meta's classification eval: short side to 256/224 * S (bicubic, antialiased), centre crop S x S.
    case eval
    /// Aspect ratio kept: short side to S, both sides rounded to multiples of the patch size (dense tasks).
    case native
}

/// Preprocessing settings: preset, size and normalisation statistics.
public struct Preprocessing: Sendable, Equatable, Codable {
    public var preset: PreprocessPreset
    /// Output side (hf, eval) or short side (native), in pixels.
    public var size: Int
    public var mean: [Float]
    public var std: [Float]
    /// Multiple that the output sides must be (the model's patch size).
    public var patchSize: Int

    /// ImageNet statistics (LVD-1689M weights).
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    /// SAT-493M (satellite) weights.
    public static let satelliteMean: [Float] = [0.430, 0.411, 0.296]
    public static let satelliteStd: [Float] = [0.213, 0.156, 0.143]

    public init(preset: PreprocessPreset = .hf, size: Int = 224, mean: [Float] = imagenetMean,
                std: [Float] = imagenetStd, patchSize: Int = 16) {
        self.preset = preset
        self.size = size
        self.mean = mean
        self.std = std
        self.patchSize = patchSize
    }

    /// Checks the settings, with messages fit for a command line.
    public func validate() throws {
        guard size > 0, size % patchSize == 0 else {
            throw BackboneError.badInput("size \(size) must be a positive multiple of the patch size \(patchSize) (e.g. 224, 448, 512)")
        }
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
            throw BackboneError.badInput("mean and std need 3 values each (R,G,B), std > 0")
        }
    }

    /// Output height and width for an image of `width` x `height`.
    public func outputSize(width: Int, height: Int) -> (height: Int, width: Int) {
        switch preset {
        case .hf, .eval: return (size, size)
        case .native:
            let p = Double(patchSize)
            let short = Double(min(width, height)), scale = Double(size) / short
            func round16(_ v: Double) -> Int { max(patchSize, Int((v / p).rounded()) * patchSize) }
            return (round16(Double(height) * scale), round16(Double(width) * scale))
        }
    }

    /// Pixel values [3, H, W] (channel-major), normalised.
    public func apply(_ image: RGBImage) throws -> (pixels: [Float], height: Int, width: Int) {
        let (w, h) = (image.width, image.height)
        // Rescale in float32 as `image * (1/255)` does in transformers.
        let scale = Float(1.0 / 255.0)
        var planar = [Float](repeating: 0, count: 3 * w * h)
        image.pixels.withUnsafeBufferPointer { src in
            planar.withUnsafeMutableBufferPointer { dst in
                let plane = w * h
                for i in 0..<plane {
                    dst[i] = Float(src[3 * i]) * scale
                    dst[plane + i] = Float(src[3 * i + 1]) * scale
                    dst[2 * plane + i] = Float(src[3 * i + 2]) * scale
                }
            }
        }
        let input = try Tensor(planar, shape: [1, 3, h, w])
        var out: [Float]
        let (oh, ow) = outputSize(width: w, height: h)
        switch preset {
        case .hf, .native:
            out = try input.resized(height: oh, width: ow, bicubic: false, antialias: true).floats()
        case .eval:
            // torchvision Resize(int): short side to the target, long side truncated.
            let resizeShort = Int((Double(size) * 256 / 224).rounded())
            let (rh, rw) = w <= h ? (Int(Double(resizeShort) * Double(h) / Double(w)), resizeShort)
                                  : (resizeShort, Int(Double(resizeShort) * Double(w) / Double(h)))
            let resized = try input.resized(height: rh, width: rw, bicubic: true, antialias: true)
            let top = Int((Double(rh - size) / 2).rounded()), left = Int((Double(rw - size) / 2).rounded())
            out = try resized.narrow(2, start: top, length: size).narrow(3, start: left, length: size).floats()
        }
        let plane = oh * ow
        for c in 0..<3 {
            let m = mean[c], s = std[c]
            for i in (c * plane)..<((c + 1) * plane) { out[i] = (out[i] - m) / s }
        }
        return (out, oh, ow)
    }
}
