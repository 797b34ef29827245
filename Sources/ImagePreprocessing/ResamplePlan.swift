import Foundation

/// How an image becomes model input: resized (antialiased, exactly as PyTorch's
/// `interpolate(..., antialias=True)` on `pixels / 255` in float32) to `outputWidth` x
/// `outputHeight`, of which the crop rectangle is kept; optionally mirrored left-right first.
public struct ResamplePlan: Sendable, Equatable {
    public var outputWidth: Int
    public var outputHeight: Int
    public var cropX: Int
    public var cropY: Int
    public var cropWidth: Int
    public var cropHeight: Int
    /// Bicubic (a = -0.5, PyTorch's antialiased bicubic) instead of bilinear.
    public var bicubic: Bool
    /// Mirror the (upright) image left-right before resizing.
    public var mirrored: Bool

    /// The whole resized image unless `crop` (x, y, width, height) says otherwise.
    public init(outputWidth: Int, outputHeight: Int, crop: (x: Int, y: Int, width: Int, height: Int)? = nil,
                bicubic: Bool = false, mirrored: Bool = false) {
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        let c = crop ?? (0, 0, outputWidth, outputHeight)
        (cropX, cropY, cropWidth, cropHeight) = (c.x, c.y, c.width, c.height)
        self.bicubic = bicubic
        self.mirrored = mirrored
    }

    /// Floats the result holds (3 planes of the crop).
    public var outputCount: Int { 3 * cropWidth * cropHeight }

    package func check() throws {
        let sides = [outputWidth, outputHeight, cropWidth, cropHeight]
        guard sides.allSatisfy({ (1...65_536).contains($0) }), cropX >= 0, cropY >= 0,
              cropX + cropWidth <= outputWidth, cropY + cropHeight <= outputHeight else {
            throw ImageError.invalid("invalid resize: \(outputWidth)x\(outputHeight), crop \(cropWidth)x\(cropHeight) at (\(cropX), \(cropY))")
        }
    }
}
