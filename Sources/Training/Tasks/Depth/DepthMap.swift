import Foundation
import Heads
import Images

/// A depth map in metres, row-major; 0 means "no depth" (the sensor saw nothing) and counts in
/// no loss or metric. Resized by nearest neighbour, as Meta's depth transforms resize labels
/// (`depth_resize`: torchvision's resize with NEAREST on the `Depth` tensor).
public struct DepthMap: DenseTarget, Equatable {
    public var width: Int
    public var height: Int
    public var values: [Float]

    public static var ignoredValue: Float { 0 }

    public init(uncheckedWidth width: Int, height: Int, values: [Float]) {
        (self.width, self.height, self.values) = (width, height, values)
    }

    public func resizedValues(width: Int, height: Int) -> [Float] { resizedNearest(width: width, height: height) }

    /// Metres from stored 16-bit values: v / `scale` in float32, as Meta's `NormalizeDepth`
    /// (1000 for NYU's millimetres, 256 for KITTI).
    public init(_ image: Grey16Image, scale: Float) {
        self.init(uncheckedWidth: image.width, height: image.height, values: image.samples.map { Float($0) / scale })
    }

    /// Reads a 16-bit greyscale PNG holding depth times `scale`.
    public init(png path: String, scale: Float, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws {
        self.init(try GreyPNG16.decode(path: path, maxPixels: maxPixels), scale: scale)
    }

    /// The map as 16-bit values (metres x `scale`, rounded, clamped to 0...65535) for a PNG;
    /// throws on a NaN or infinite depth.
    public func encoded(scale: Float) throws -> Grey16Image {
        guard let bad = values.firstIndex(where: { !$0.isFinite }) else {
            return try Grey16Image(width: width, height: height, samples: values.map { UInt16(min(max(($0 * scale).rounded(), 0), 65535)) })
        }
        throw ImageError.invalid("depth map: pixel \(bad % width),\(bad / width) is \(values[bad]), not a finite depth")
    }

    /// Writes the map as a 16-bit PNG of metres x `scale`, whole or not at all.
    public func writePNG(to path: String, scale: Float) throws {
        try GreyPNG16.write(encoded(scale: scale), to: path)
    }

    /// Pixels with a depth (not 0).
    public var validCount: Int { values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
}

extension DepthMap {
    /// Depth outputs [height, width] upsampled bilinearly (align_corners false) to a map of `toWidth` x `toHeight`.
    public static func upsampled(_ outputs: [Float], height: Int, width: Int, toWidth: Int, height toHeight: Int) throws -> DepthMap {
        let upsampler = try BilinearUpsampler(inputHeight: height, inputWidth: width, outputHeight: toHeight, outputWidth: toWidth)
        return DepthMap(uncheckedWidth: toWidth, height: toHeight, values: try upsampler.forward(outputs, batch: 1, channels: 1))
    }
}
