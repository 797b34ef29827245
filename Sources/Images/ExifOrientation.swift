/// The EXIF orientation tag (1-8) and the transposition that shows the image upright, as
/// Pillow's `ImageOps.exif_transpose`.
public struct ExifOrientation: Equatable, Sendable {
    public let value: Int

    public static let upright = ExifOrientation(value: 1)

    public init(value: Int) { self.value = (1...8).contains(value) ? value : 1 }

    /// Orientations 5-8 swap width and height.
    public var swapsSides: Bool { value >= 5 }

    /// Reads the orientation from a JPEG's first APP1 Exif segment or a PNG's eXIf chunk; any
    /// malformed or missing data means upright. Looks at most at the first megabyte of a JPEG.
    public static func read(from bytes: UnsafeRawBufferPointer, format: ImageFormat) -> ExifOrientation {
        let tiff: Range<Int>?
        switch format {
        case .jpeg: tiff = jpegExif(bytes)
        case .png: tiff = pngExif(bytes)
        default: tiff = nil
        }
        guard let tiff, let value = orientationTag(UnsafeRawBufferPointer(rebasing: bytes[tiff])) else { return .upright }
        return ExifOrientation(value: value)
    }

    /// The byte range of the TIFF block inside the first APP1 "Exif\0\0" segment.
    private static func jpegExif(_ b: UnsafeRawBufferPointer) -> Range<Int>? {
        let limit = min(b.count, 1 << 20)
        var i = 2
        while i + 4 <= limit, b[i] == 0xFF {
            let marker = b[i + 1]
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan: no more metadata
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            let start = i + 4, end = i + 2 + length
            guard length >= 2, end <= b.count else { return nil }
            if marker == 0xE1, end - start > 6,
               b[start] == 0x45, b[start + 1] == 0x78, b[start + 2] == 0x69, b[start + 3] == 0x66,
               b[start + 4] == 0, b[start + 5] == 0 {
                return (start + 6)..<end
            }
            i = end
        }
        return nil
    }

    /// The byte range of a PNG eXIf chunk's content (before the first IDAT).
    private static func pngExif(_ b: UnsafeRawBufferPointer) -> Range<Int>? {
        var i = 8
        while i + 8 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            let start = i + 8
            guard length <= b.count - start - 4 else { return nil }
            let end = start + length
            let type = (b[i + 4], b[i + 5], b[i + 6], b[i + 7])
            if type == (0x65, 0x58, 0x49, 0x66) { return start..<end }  // eXIf
            if type == (0x49, 0x44, 0x41, 0x54) || type == (0x49, 0x45, 0x4E, 0x44) { return nil }  // IDAT, IEND
            i = end + 4
        }
        return nil
    }

    /// Tag 0x0112 of IFD0.
    private static func orientationTag(_ t: UnsafeRawBufferPointer) -> Int? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        if t[0] == 0x49 && t[1] == 0x49 { little = true } else if t[0] == 0x4D && t[1] == 0x4D { little = false } else { return nil }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o <= t.count - 2 else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for e in 0..<count {
            let entry = ifd + 2 + e * 12
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 { return u16(entry + 8) }
        }
        return nil
    }

    /// The upright image.
    public func apply(to image: RGBImage) -> RGBImage {
        guard value != 1 else { return image }
        let w = image.width, h = image.height
        let ow = swapsSides ? h : w, oh = swapsSides ? w : h
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (sx, sy): (Int, Int)
                        switch value {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        default: (sx, sy) = (w - 1 - y, x)  // 8
                        }
                        let s = (sy * w + sx) * 3, d = (y * ow + x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(uncheckedWidth: ow, height: oh, pixels: out)
    }
}
