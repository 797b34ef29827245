import CImageCodecs
import Foundation
import Support

/// Writes PNG files (RGB, RGBA, grey, or palette-indexed), atomically.
public enum PNGEncoder {
    /// PNG bytes of an 8-bit image with 1, 3 or 4 channels; `palette` (RGB triples, at most 256)
    /// makes a 1-channel image palette-indexed.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int, palette: [UInt8]? = nil) throws -> Data {
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, [1, 3, 4].contains(channels), !overflow, area <= Int.max / 4,
              pixels.count == area * channels, palette.map({ $0.count % 3 == 0 && (3...768).contains($0.count) }) ?? true else {
            throw ImageError.invalid("PNG encoding: \(pixels.count) bytes for a \(width)x\(height)x\(channels) image")
        }
        return try encoded("PNG") { out, size, message, capacity in
            pixels.withUnsafeBufferPointer { px in
                (palette ?? []).withUnsafeBufferPointer { pal in
                    ic_encode_png(px.baseAddress, Int32(width), Int32(height), Int32(channels), palette == nil ? nil : pal.baseAddress,
                                  Int32((palette?.count ?? 0) / 3), out, size, message, capacity)
                }
            }
        }
    }

    /// Runs a C encoder that returns a malloc'd buffer: its bytes, or `ImageError.invalid` with
    /// the encoder's message.
    static func encoded(_ format: String, _ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
                                                     UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { encode(&out, &size, $0.baseAddress!, $0.count) }
        guard status == 0, let out else { throw ImageError.invalid("\(format) encoding failed: \(ImageDecoder.cString(message))") }
        defer { ic_buffer_free(out) }
        return Data(bytes: out, count: size)
    }

    /// Writes an RGB image to `path` as PNG.
    public static func write(_ image: RGBImage, to path: String) throws {
        try AtomicFile.write(encode(pixels: image.pixels, width: image.width, height: image.height, channels: 3), to: path)
    }

    /// Writes a palette-indexed image (one byte per pixel) to `path`.
    public static func writeIndexed(_ indices: [UInt8], width: Int, height: Int, palette: [UInt8], to path: String) throws {
        try AtomicFile.write(encode(pixels: indices, width: width, height: height, channels: 1, palette: palette), to: path)
    }
}
