import Backbone
import Foundation

/// Image sizes read from file headers (PNG IHDR, JPEG SOF) without decoding pixels. Files whose
/// EXIF data may rotate them, and other formats, are decoded instead, so the size is always the
/// one `ImageDecoder.decode` would give.
enum ImageHeader {
    static func size(of path: String) throws -> (width: Int, height: Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw FileManager.default.fileExists(atPath: path) ? DatasetError.badFile(path: path, reason: "cannot read the image")
                : DatasetError.missingImage(path: path, listedIn: nil)
        }
        if let size = data.withUnsafeBytes({ headerSize(UnsafeRawBufferPointer($0)) }) { return size }
        let image = try ImageDecoder.decode(data: data, path: path)
        return (image.width, image.height)
    }

    /// The stored size, or nil if the header is not understood or EXIF data is present.
    static func headerSize(_ b: UnsafeRawBufferPointer) -> (width: Int, height: Int)? {
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if b.count >= 33, (0 ..< 8).allSatisfy({ b[$0] == png[$0] }) {
            guard b[12] == 0x49, b[13] == 0x48, b[14] == 0x44, b[15] == 0x52 else { return nil }  // IHDR
            let size = (be32(16), be32(20))
            var i = 8
            while i + 8 <= b.count {  // look for eXIf before the pixel data
                let length = be32(i)
                let type = String(decoding: [b[i + 4], b[i + 5], b[i + 6], b[i + 7]], as: UTF8.self)
                if type == "eXIf" { return nil }
                if type == "IDAT" || type == "IEND" { return size }
                i += 12 + length
            }
            return nil
        }
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0 ... 0xD7).contains(marker) { i += 2; continue }
            let length = be16(i + 2)
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            if marker == 0xE1, length >= 8, b[i + 4] == 0x45, b[i + 5] == 0x78, b[i + 6] == 0x69, b[i + 7] == 0x66 { return nil }  // Exif
            if (0xC0 ... 0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard length >= 7 else { return nil }
                let height = be16(i + 5), width = be16(i + 7)
                return width > 0 && height > 0 ? (width, height) : nil
            }
            if marker == 0xDA || marker == 0xD9 { return nil }
            i += 2 + length
        }
        return nil
    }
}
