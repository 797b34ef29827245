import CImageCodecs
import Foundation

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGB buffer size does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Decodes JPEG and PNG files to RGB the way Pillow's `ImageOps.exif_transpose` followed by
/// `convert("RGB")` does (what `transformers.image_utils.load_image` returns).
///
/// One deliberate difference: 16-bit PNG samples are scaled to 8 bits (v * 255 / 65535), where
/// Pillow clips 16-bit greyscale values above 255 to white.
public enum ImageDecoder {
    /// Largest image accepted by default (a guard against decompression bombs): 178,956,970
    /// pixels, Pillow's own `MAX_IMAGE_PIXELS` * 2 at which it refuses to open.
    public static let defaultMaxPixels = 178_956_970

    /// Decodes the image file at `path`; errors name the file and the reason.
    public static func decode(path: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file (\(error.localizedDescription))" : "no such file"
            throw BackboneError.badImage(path: path, reason: reason)
        }
        return try decode(data: data, path: path, maxPixels: maxPixels)
    }

    /// Decodes image bytes; `path` is used in messages only.
    public static func decode(data: Data, path: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        guard !data.isEmpty else { throw BackboneError.badImage(path: path, reason: "the file is empty (0 bytes)") }
        let format = ImageFormat(sniffing: data)
        var image = ic_image()
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress!
            switch format {
            case .jpeg: return ic_decode_jpeg(bytes, raw.count, Int64(maxPixels), &image, &message, message.count)
            case .png: return ic_decode_png(bytes, raw.count, Int64(maxPixels), &image, &message, message.count)
            default: return -1
            }
        }
        if status == -1 {
            throw BackboneError.badImage(path: path, reason: format.unsupportedReason)
        }
        guard status == 0 else {
            let reason = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw BackboneError.badImage(path: path, reason: status == 2 ? "\(reason) (raise it with --max-pixels if the image is genuine)" : "corrupt \(format.name) data: \(reason)")
        }
        defer { ic_image_free(&image) }
        let count = Int(image.width) * Int(image.height) * 3
        let pixels = [UInt8](UnsafeBufferPointer(start: image.pixels, count: count))
        let decoded = RGBImage(width: Int(image.width), height: Int(image.height), pixels: pixels)
        let orientation = ExifOrientation.read(from: data, format: format)
        return orientation.apply(to: decoded)
    }
}

/// File formats recognised by their first bytes.
enum ImageFormat {
    case jpeg, png, gif, bmp, webp, tiff, heic, unknown

    init(sniffing data: Data) {
        let b = [UInt8](data.prefix(12))
        func starts(_ p: [UInt8]) -> Bool { b.count >= p.count && Array(b.prefix(p.count)) == p }
        if starts([0xFF, 0xD8, 0xFF]) { self = .jpeg }
        else if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png }
        else if starts(Array("GIF8".utf8)) { self = .gif }
        else if starts(Array("BM".utf8)) { self = .bmp }
        else if starts(Array("RIFF".utf8)) && b.count >= 12 && Array(b[8..<12]) == Array("WEBP".utf8) { self = .webp }
        else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { self = .tiff }
        else if b.count >= 12 && Array(b[4..<8]) == Array("ftyp".utf8) { self = .heic }
        else { self = .unknown }
    }

    var name: String {
        switch self {
        case .jpeg: return "JPEG"
        case .png: return "PNG"
        case .gif: return "GIF"
        case .bmp: return "BMP"
        case .webp: return "WebP"
        case .tiff: return "TIFF"
        case .heic: return "HEIF/AVIF"
        case .unknown: return "unknown"
        }
    }

    var unsupportedReason: String {
        self == .unknown
            ? "not an image dinoprobe can read (neither JPEG nor PNG by its first bytes)"
            : "\(name) images are not supported; convert it to JPEG or PNG"
    }
}
