import CImageCodecs
import Foundation
import Support

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    /// Throws `ImageError.invalid` unless `pixels` holds `width * height * 3` bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard pixels.count == byteCount(width: width, height: height, channels: 3) else {
            throw ImageError.invalid("an RGB image of \(width)x\(height) needs \(width)x\(height)x3 bytes, got \(pixels.count)")
        }
        self.init(uncheckedWidth: width, height: height, pixels: pixels)
    }

    /// For sizes this module has already checked.
    init(uncheckedWidth width: Int, height: Int, pixels: [UInt8]) {
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// The image mirrored left-right.
    public func mirrored() -> RGBImage {
        var out = pixels
        for y in 0..<height {
            for x in 0..<width {
                let s = (y * width + (width - 1 - x)) * 3, d = (y * width + x) * 3
                out[d] = pixels[s]; out[d + 1] = pixels[s + 1]; out[d + 2] = pixels[s + 2]
            }
        }
        return RGBImage(uncheckedWidth: width, height: height, pixels: out)
    }
}

/// What an image file declares in its header, read without decoding the pixels.
public struct ImageInfo: Sendable, Equatable {
    public var format: ImageFormat
    /// Size as stored in the file.
    public var storedWidth: Int
    public var storedHeight: Int
    /// EXIF orientation, applied by the decoders.
    public var orientation: ExifOrientation
    /// Progressive JPEG or interlaced PNG: decoding holds the whole image.
    public var multipass: Bool

    /// Size once the EXIF orientation is applied (what the decoders return).
    public var width: Int { orientation.swapsSides ? storedHeight : storedWidth }
    public var height: Int { orientation.swapsSides ? storedWidth : storedHeight }
    public var pixels: Int { storedWidth * storedHeight }
}

/// Decodes JPEG and PNG files to RGB the way Pillow's `ImageOps.exif_transpose` followed by
/// `convert("RGB")` does (what `transformers.image_utils.load_image` returns).
///
/// One deliberate difference: 16-bit PNG samples are scaled to 8 bits (v * 255 / 65535), where
/// Pillow clips 16-bit greyscale values above 255 to white.
///
/// Every size comes from the file and is checked before memory is allocated: images declaring
/// more than `maxPixels` pixels are refused from their header, and libjpeg's working memory is
/// capped, so a small hostile file cannot make the decoder allocate gigabytes.
public enum ImageDecoder {
    /// Largest image accepted by default (a guard against decompression bombs): 178,956,970
    /// pixels, Pillow's own `MAX_IMAGE_PIXELS` * 2 at which it refuses to open.
    public static let defaultMaxPixels = 178_956_970
    /// The largest pixel limit a caller may set (2^34: a 131072 x 131072 image); keeps the
    /// memory arithmetic derived from it far from overflow.
    public static let maxPixelsLimit = 1 << 34
    /// Image files larger than this are refused before reading (4 GiB).
    public static let maxFileBytes: Int64 = 4 << 30

    /// Memory a decode of `info` may use for working buffers beyond its output (libjpeg's
    /// coefficient buffers for progressive files: at most 6 bytes per pixel), plus slack.
    static func workingMemory(_ info: ImageInfo) -> Int64 {
        Int64(info.pixels) * 8 + (64 << 20)
    }

    /// Maps the file at `path` (a regular file of at most `maxFileBytes`, not empty).
    public static func open(_ path: String) throws -> MappedFile {
        let file = try map(path)
        guard file.count > 0 else { throw ImageError.empty(path: path) }
        return file
    }

    /// Maps the file at `path` (a regular file of at most `maxFileBytes`).
    static func map(_ path: String) throws -> MappedFile {
        do { return try MappedFile(path: path, limit: maxFileBytes) } catch { throw ImageError.unreadable(path: path, reason: "\(error)") }
    }

    /// The header of an image file (format, stored size, orientation); refuses formats other
    /// than JPEG and PNG, and images over `maxPixels`.
    public static func info(of file: MappedFile, maxPixels: Int = defaultMaxPixels) throws -> ImageInfo {
        try file.withBytes { raw in
            guard raw.count > 0 else { throw ImageError.empty(path: file.path) }
            let format = ImageFormat(sniffing: raw)
            if let reason = format.unsupportedReason { throw ImageError.unsupportedFormat(path: file.path, reason: reason) }
            var header = ic_info()
            var message = [CChar](repeating: 0, count: 512)
            let status = ic_read_info(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, &header, &message, message.count)
            guard status == 0 else { throw ImageError.corrupt(path: file.path, format: format.name, reason: cString(message)) }
            let info = ImageInfo(format: format, storedWidth: Int(header.width), storedHeight: Int(header.height),
                                 orientation: ExifOrientation.read(from: raw, format: format), multipass: header.multipass != 0)
            guard info.storedWidth > 0, info.storedHeight > 0 else {
                throw ImageError.corrupt(path: file.path, format: format.name, reason: "the header declares an empty image")
            }
            guard info.pixels <= maxPixels else {
                throw ImageError.tooLarge(path: file.path, width: info.width, height: info.height, limit: maxPixels)
            }
            return info
        }
    }

    /// The header of the image file at `path`.
    public static func info(path: String, maxPixels: Int = defaultMaxPixels) throws -> ImageInfo {
        try info(of: open(path), maxPixels: maxPixels)
    }

    /// Decodes the image file at `path`; errors name the file and the reason.
    public static func decode(path: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        try decode(file: open(path), maxPixels: maxPixels)
    }

    /// Decodes image bytes; `path` is used in messages only.
    public static func decode(data: Data, path: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        try decode(file: MappedFile(bytes: data, path: path), maxPixels: maxPixels)
    }

    /// Decodes a mapped image file.
    public static func decode(file: MappedFile, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        let info = try info(of: file, maxPixels: maxPixels)
        var image = ic_image()
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = file.withBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress!
            switch info.format {
            case .jpeg: return ic_decode_jpeg(bytes, raw.count, Int64(maxPixels), workingMemory(info), &image, &message, message.count)
            default: return ic_decode_png(bytes, raw.count, Int64(maxPixels), &image, &message, message.count)
            }
        }
        defer { ic_image_free(&image) }
        guard status == 0, let base = image.pixels else {
            if status == 2 { throw ImageError.tooLarge(path: file.path, width: info.width, height: info.height, limit: maxPixels) }
            throw ImageError.corrupt(path: file.path, format: info.format.name,
                                     reason: status == 3 ? "decoding needs more working memory than its size justifies (\(cString(message)))" : cString(message))
        }
        let (w, h) = (Int(image.width), Int(image.height))
        let pixels = [UInt8](UnsafeBufferPointer(start: base, count: w * h * 3))
        return info.orientation.apply(to: RGBImage(uncheckedWidth: w, height: h, pixels: pixels))
    }

    static func cString(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
