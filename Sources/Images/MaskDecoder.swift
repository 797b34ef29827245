import CImageCodecs
import Foundation
import Support

/// A label mask: one class index per pixel, row-major.
public struct LabelMask: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var labels: [UInt8]

    /// Throws `ImageError.invalid` unless `labels` holds `width * height` values.
    public init(width: Int, height: Int, labels: [UInt8]) throws {
        guard labels.count == byteCount(width: width, height: height, channels: 1) else {
            throw ImageError.invalid("a label mask of \(width)x\(height) needs \(width)x\(height) values, got \(labels.count)")
        }
        self.init(uncheckedWidth: width, height: height, labels: labels)
    }

    init(uncheckedWidth width: Int, height: Int, labels: [UInt8]) {
        (self.width, self.height, self.labels) = (width, height, labels)
    }
}

/// `width * height * channels`, or nil when a side is not positive or the product overflows.
func byteCount(width: Int, height: Int, channels: Int) -> Int? {
    guard width > 0, height > 0, channels > 0 else { return nil }
    let (area, o1) = width.multipliedReportingOverflow(by: height)
    let (bytes, o2) = area.multipliedReportingOverflow(by: channels)
    return o1 || o2 ? nil : bytes
}

/// Reads segmentation masks: palette PNGs (the index is the class, as in Pascal VOC) and 8-bit
/// greyscale PNGs (the grey value is the class, as in ADE20K).
public enum MaskDecoder {
    public static func decode(path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> LabelMask {
        try decode(file: ImageDecoder.map(path), maxPixels: maxPixels)
    }

    /// Decodes mask bytes; `path` is used in messages only.
    public static func decode(data: Data, path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> LabelMask {
        try decode(file: MappedFile(bytes: data, path: path), maxPixels: maxPixels)
    }

    public static func decode(file: MappedFile, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> LabelMask {
        guard file.count > 0 else { throw ImageError.badMask(path: file.path, reason: "the file is empty (0 bytes)") }
        var image = ic_image()
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = try file.withBytes { raw in
            guard ImageFormat(sniffing: raw) == .png else {
                throw ImageError.badMask(path: file.path, reason: "a label mask must be a PNG (lossy formats change class indices)")
            }
            return ic_decode_png_indices(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, Int64(maxPixels), &image, &message, message.count)
        }
        defer { ic_image_free(&image) }
        guard status == 0, let base = image.pixels else {
            throw ImageError.badMask(path: file.path, reason: ImageDecoder.cString(message))
        }
        let (w, h) = (Int(image.width), Int(image.height))
        return LabelMask(uncheckedWidth: w, height: h, labels: [UInt8](UnsafeBufferPointer(start: base, count: w * h)))
    }
}

extension MaskDecoder {
    /// The colours of a palette PNG (RGB triples, index i at 3i), read from its PLTE chunk
    /// without decoding pixels; nil for a PNG without one (greyscale). Chunk lengths are checked
    /// against the file, and a palette must hold 1 to 256 whole colours.
    public static func palette(path: String) throws -> [UInt8]? {
        try ImageDecoder.map(path).withBytes { raw throws -> [UInt8]? in
            guard ImageFormat(sniffing: raw) == .png else { throw ImageError.badMask(path: path, reason: "not a PNG") }
            var at = 8
            while at + 8 <= raw.count {
                let length = (0..<4).reduce(0) { $0 << 8 | Int(raw[at + $1]) }
                let type = String(decoding: raw[(at + 4)..<(at + 8)], as: UTF8.self)
                guard length <= raw.count - at - 8 else { throw ImageError.badMask(path: path, reason: "chunk \(type) runs past the end of the file") }
                if type == "PLTE" {
                    guard length % 3 == 0, (3...768).contains(length) else {
                        throw ImageError.badMask(path: path, reason: "a palette of \(length) bytes (1 to 256 RGB colours expected)")
                    }
                    return [UInt8](raw[(at + 8)..<(at + 8 + length)])
                }
                if type == "IDAT" || type == "IEND" { return nil }
                at += 12 + length
            }
            return nil
        }
    }
}
