import CImageCodecs
import Foundation
import Support

/// Writes RGB images as JPEG files (for generated data and benchmarks), atomically.
public enum JPEGEncoder {
    public static func encode(_ image: RGBImage, quality: Int = 90) throws -> Data {
        guard (1...100).contains(quality) else { throw ImageError.invalid("JPEG quality \(quality) is not in 1...100") }
        return try PNGEncoder.encoded("JPEG") { out, size, message, capacity in
            image.pixels.withUnsafeBufferPointer {
                ic_encode_jpeg($0.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), out, size, message, capacity)
            }
        }
    }

    public static func write(_ image: RGBImage, to path: String, quality: Int = 90) throws {
        try AtomicFile.write(encode(image, quality: quality), to: path)
    }
}
