import CImageCodecs
import Foundation
import Support

/// Writes RGB images as JPEG files (for generated data and benchmarks), atomically.
public enum JPEGEncoder {
    public static func encode(_ image: RGBImage, quality: Int = 90) throws -> Data {
        guard (1...100).contains(quality) else { throw ImageError.invalid("JPEG quality \(quality) is not in 1...100") }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer {
            ic_encode_jpeg($0.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), &out, &size, &message, message.count)
        }
        guard status == 0, let out else {
            throw ImageError.invalid("JPEG encoding failed: \(message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })")
        }
        defer { ic_buffer_free(out) }
        return Data(bytes: out, count: size)
    }

    public static func write(_ image: RGBImage, to path: String, quality: Int = 90) throws {
        try AtomicFile.write(encode(image, quality: quality), to: path)
    }
}
