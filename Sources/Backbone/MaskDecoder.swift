import CImageCodecs
import Foundation

/// A label mask: one class index per pixel, row-major.
public struct LabelMask: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var labels: [UInt8]

    public init(width: Int, height: Int, labels: [UInt8]) {
        precondition(labels.count == width * height, "mask size does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.labels = labels
    }
}

/// Reads segmentation masks: palette PNGs (the index is the class, as in Pascal VOC) and 8-bit
/// greyscale PNGs (the grey value is the class, as in ADE20K).
public enum MaskDecoder {
    public static func decode(path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> LabelMask {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw BackboneError.badImage(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read the mask" : "missing mask file")
        }
        guard !data.isEmpty else { throw BackboneError.badImage(path: path, reason: "the mask file is empty (0 bytes)") }
        guard ImageFormat(sniffing: data) == .png else {
            throw BackboneError.badImage(path: path, reason: "a label mask must be a PNG (lossy formats change class indices)")
        }
        var image = ic_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBytes { raw in
            ic_decode_png_indices(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, Int64(maxPixels), &image, &message, message.count)
        }
        guard status == 0 else {
            throw BackboneError.badImage(path: path, reason: message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        defer { ic_image_free(&image) }
        let count = Int(image.width) * Int(image.height)
        return LabelMask(width: Int(image.width), height: Int(image.height),
                         labels: [UInt8](UnsafeBufferPointer(start: image.pixels, count: count)))
    }
}
