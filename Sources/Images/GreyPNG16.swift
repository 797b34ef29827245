import CImageCodecs
import Foundation
import Support

/// A 16-bit greyscale image (depth maps in millimetres, disparity...), row-major.
public struct Grey16Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var samples: [UInt16]

    /// Throws `ImageError.invalid` unless `samples` holds `width * height` values.
    public init(width: Int, height: Int, samples: [UInt16]) throws {
        guard samples.count == byteCount(width: width, height: height, channels: 1) else {
            throw ImageError.invalid("a 16-bit image of \(width)x\(height) needs \(width)x\(height) samples, got \(samples.count)")
        }
        (self.width, self.height, self.samples) = (width, height, samples)
    }
}

/// Reads and writes 16-bit greyscale PNGs, sample values untouched. Every other PNG (8 bits or
/// fewer, palette, RGB, alpha) is refused with the reason; the pixel count is checked against
/// `maxPixels` from the header, before any pixel memory is allocated (the decompression-bomb
/// guard of `ImageDecoder`).
public enum GreyPNG16 {
    public static func decode(path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> Grey16Image {
        try decode(file: ImageDecoder.open(path), maxPixels: maxPixels)
    }

    /// Decodes PNG bytes; `path` is used in messages only.
    public static func decode(data: Data, path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> Grey16Image {
        try decode(file: MappedFile(bytes: data, path: path), maxPixels: maxPixels)
    }

    public static func decode(file: MappedFile, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> Grey16Image {
        guard file.count > 0 else { throw ImageError.empty(path: file.path) }
        let limit = min(max(maxPixels, 0), ImageDecoder.maxPixelsLimit)
        var image = ic_image()
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = try file.withBytes { raw in
            let format = ImageFormat(sniffing: raw)
            guard format == .png else {
                throw ImageError.unsupportedFormat(path: file.path, reason: "a 16-bit greyscale PNG is needed, this is \(format.name)")
            }
            return ic_decode_png_grey16(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, Int64(limit), &image, &message, message.count)
        }
        defer { ic_image_free(&image) }
        guard status == 0, let base = image.pixels else {
            let reason = ImageDecoder.cString(message)
            if status == 2 { throw ImageError.unsupportedFormat(path: file.path, reason: reason + " (a decompression-bomb guard)") }
            throw ImageError.unsupportedFormat(path: file.path, reason: reason)
        }
        let (w, h) = (Int(image.width), Int(image.height))
        let samples = base.withMemoryRebound(to: UInt16.self, capacity: w * h) { [UInt16](UnsafeBufferPointer(start: $0, count: w * h)) }
        return try Grey16Image(width: w, height: h, samples: samples)
    }

    /// PNG bytes of a 16-bit greyscale image.
    public static func encode(_ image: Grey16Image) throws -> Data {
        guard image.width <= Int(Int32.max), image.height <= Int(Int32.max) else {
            throw ImageError.invalid("PNG encoding: a \(image.width)x\(image.height) image is too large")
        }
        return try PNGEncoder.encoded("PNG") { out, size, message, capacity in
            image.samples.withUnsafeBufferPointer {
                ic_encode_png_grey16($0.baseAddress, Int32(image.width), Int32(image.height), out, size, message, capacity)
            }
        }
    }

    /// Writes `image` to `path` as a 16-bit greyscale PNG, whole or not at all.
    public static func write(_ image: Grey16Image, to path: String) throws {
        try AtomicFile.write(encode(image), to: path)
    }
}
