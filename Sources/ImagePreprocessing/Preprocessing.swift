import Foundation

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
        (self.preset, self.size, self.mean, self.std, self.patchSize) = (preset, size, mean, std, patchSize)
    }

    /// Bounds on a recipe, the one place they are kept: the command-line options (`--size`,
    /// `--mean`, `--std`) and recipes read from files (head metadata) are held to them, so a
    /// recipe that would divide by a vanishing std or resize to nothing is refused by name.
    public static let maxSize = 8192
    public static let meanRange: ClosedRange<Float> = -1000...1000
    public static let stdRange: ClosedRange<Float> = 1e-6...1000
    public static let patchSizeRange = 1...256

    /// Checks the settings against the bounds above; messages name the field and its bounds.
    public func validate() throws {
        guard Self.patchSizeRange.contains(patchSize) else {
            throw ImageError.invalid("the patch size \(patchSize) is outside \(Self.patchSizeRange.lowerBound)...\(Self.patchSizeRange.upperBound)")
        }
        guard (patchSize...Self.maxSize).contains(size), size % patchSize == 0 else {
            throw ImageError.invalid("size \(size) must be a multiple of the patch size \(patchSize) in \(patchSize)...\(Self.maxSize) (e.g. 224, 448, 512)")
        }
        try Self.checkTriple(mean, "mean", Self.meanRange)
        try Self.checkTriple(std, "std", Self.stdRange)
    }

    /// Three finite values (R, G, B), each in `range`.
    public static func checkTriple(_ values: [Float], _ name: String, _ range: ClosedRange<Float>) throws {
        guard values.count == 3, values.allSatisfy({ $0.isFinite && range.contains($0) }) else {
            throw ImageError.invalid("\(name) is \(values.prefix(4).map { "\($0)" }.joined(separator: ",")); it needs 3 finite values (R,G,B), each in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// At most this many times the patches of an S x S input (`native` keeps the aspect ratio,
    /// so a 1:20 strip at S would need 20x the tokens; such images are refused, not run).
    public static let maxNativeAreaFactor = 4

    /// Output height and width for an image of `width` x `height` (upright).
    public func outputSize(width: Int, height: Int) throws -> (height: Int, width: Int) {
        switch preset {
        case .hf, .eval: return (size, size)
        case .native:
            let p = Double(patchSize)
            let short = Double(min(width, height)), scale = Double(size) / short
            func round16(_ v: Double) -> Int { max(patchSize, Int(min((v / p).rounded(), 1e6)) * patchSize) }
            let (h, w) = (round16(Double(height) * scale), round16(Double(width) * scale))
            let patches = (h / patchSize) * (w / patchSize), limit = Self.maxNativeAreaFactor * (size / patchSize) * (size / patchSize)
            guard patches <= limit else {
                throw ImageError.invalid("with the native preset its aspect ratio (\(width)x\(height)) gives \(w)x\(h) pixels, \(patches) patches, more than \(Self.maxNativeAreaFactor)x those of a \(size)x\(size) input; crop it, or use the hf preset")
            }
            return (h, w)
        }
    }

    /// The resize that turns an upright `width` x `height` image into model input.
    public func plan(width: Int, height: Int, mirrored: Bool = false) throws -> ResamplePlan {
        switch preset {
        case .hf, .native:
            let (oh, ow) = try outputSize(width: width, height: height)
            return ResamplePlan(outputWidth: ow, outputHeight: oh, mirrored: mirrored)
        case .eval:
            // torchvision Resize(int): short side to round(S * 256 / 224), long side truncated;
            // then CenterCrop(S).
            let resizeShort = Int((Double(size) * 256 / 224).rounded())
            let (rh, rw) = width <= height ? (Int(Double(resizeShort) * Double(height) / Double(width)), resizeShort)
                                           : (resizeShort, Int(Double(resizeShort) * Double(width) / Double(height)))
            guard rh <= 65_536, rw <= 65_536 else {
                throw ImageError.invalid("its aspect ratio (\(width)x\(height)) is too extreme to resize with the eval preset")
            }
            // torchvision's CenterCrop: Python's round, which takes halves to the even neighbour.
            let top = Int((Double(rh - size) / 2).rounded(.toNearestOrEven))
            let left = Int((Double(rw - size) / 2).rounded(.toNearestOrEven))
            return ResamplePlan(outputWidth: rw, outputHeight: rh, crop: (left, top, size, size), bicubic: true, mirrored: mirrored)
        }
    }

    /// `(x - mean) / std` per channel of planar RGB values [3, plane].
    public func normalise(_ values: [Float], plane: Int) -> [Float] {
        var out = values
        normaliseInPlace(&out, plane: plane)
        return out
    }

    /// `(x - mean) / std` per channel of planar RGB values [3, plane], in place.
    package func normaliseInPlace(_ values: inout [Float], plane: Int) {
        values.withUnsafeMutableBufferPointer { out in
            for c in 0..<3 {
                let m = mean[c], s = std[c]
                var i = c * plane
                let end = min((c + 1) * plane, out.count)
                while i < end {
                    out[i] = (out[i] - m) / s
                    i += 1
                }
            }
        }
    }
}
