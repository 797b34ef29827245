/// Image file formats recognised by their first bytes.
public enum ImageFormat: String, Sendable, Equatable {
    case jpeg = "JPEG", png = "PNG", gif = "GIF", bmp = "BMP", webp = "WebP", tiff = "TIFF", heif = "HEIF/AVIF"
    case jpegXL = "JPEG XL", jpeg2000 = "JPEG 2000", unknown

    /// Recognises the format from the first bytes of a file.
    public init(sniffing b: UnsafeRawBufferPointer) {
        func starts(_ p: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + p.count && p.indices.allSatisfy { b[offset + $0] == p[$0] }
        }
        if starts([0xFF, 0xD8, 0xFF]) { self = .jpeg }
        else if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png }
        else if starts(Array("GIF8".utf8)) { self = .gif }
        else if starts(Array("BM".utf8)) { self = .bmp }
        else if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { self = .webp }
        else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { self = .tiff }
        else if starts(Array("ftyp".utf8), at: 4) { self = .heif }
        else if starts([0xFF, 0x0A]) || starts([0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { self = .jpegXL }
        else if starts([0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || starts([0xFF, 0x4F, 0xFF, 0x51]) { self = .jpeg2000 }
        else { self = .unknown }
    }

    /// The format's usual name ("JPEG", "HEIF/AVIF", "unknown").
    public var name: String { rawValue }

    /// Why a file of this format is not decoded (nil for JPEG and PNG).
    public var unsupportedReason: String? {
        switch self {
        case .jpeg, .png: return nil
        case .unknown: return "not an image dinoprobe can read (neither JPEG nor PNG by its first bytes)"
        default: return "\(name) images are not supported; convert it to JPEG or PNG"
        }
    }

    /// File extensions (lower case) of images: those decoded, and those recognised only to be
    /// reported as unsupported when they appear in a data set.
    public static let decodedExtensions: Set<String> = ["jpg", "jpeg", "png"]
    public static let recognisedExtensions: Set<String> = decodedExtensions.union(
        ["webp", "bmp", "gif", "tif", "tiff", "heic", "heif", "avif", "jxl", "jp2", "j2k"])
}
