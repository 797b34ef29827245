/// File names are bytes on Linux, not necessarily UTF-8. dinoprobe keeps paths in `String`s and
/// maps every byte that is not part of valid UTF-8 to one private-use scalar, U+10FF00 + byte, so
/// that any name round-trips exactly: `bytes(of: string(fromBytes: b)) == b` for every `b`.
/// (A name that really contains U+10FF00...U+10FFFF has those scalars' bytes escaped too, so the
/// mapping stays unambiguous.) `FileSystem` converts back to bytes for every system call, and
/// `display` shows escaped bytes as `\xNN` for people.
public enum PathCodec {
    static let escapeBase: UInt32 = 0x10FF00

    /// The string holding these bytes (valid UTF-8 as is, other bytes escaped).
    public static func string<C: Collection>(fromBytes bytes: C) -> String where C.Element == UInt8 {
        let b = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < b.count {
            if let (scalar, length) = decodeScalar(b, at: i), scalar.value < escapeBase {
                scalars.append(scalar)
                i += length
            } else {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(b[i]))!)
                i += 1
            }
        }
        return String(scalars)
    }

    /// The string for a NUL-terminated C string (e.g. an `argv` entry or a `d_name`).
    public static func string(fromCString pointer: UnsafePointer<CChar>) -> String {
        let length = strlenBytes(pointer)
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            string(fromBytes: UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The bytes a string stands for (the inverse of `string(fromBytes:)`).
    public static func bytes(of string: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            if scalar.value >= escapeBase && scalar.value <= escapeBase + 0xFF {
                out.append(UInt8(scalar.value - escapeBase))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// The byte that `scalar` stands for when it is an escaped byte (not UTF-8); nil otherwise.
    public static func escapedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= escapeBase && scalar.value <= escapeBase + 0xFF ? UInt8(scalar.value - escapeBase) : nil
    }

    /// Whether `scalar` stands for a byte that is not UTF-8.
    public static func isEscapedByte(_ scalar: Unicode.Scalar) -> Bool { escapedByte(scalar) != nil }

    /// The string with escaped bytes written as `\xNN`, for messages.
    public static func display(_ string: String) -> String {
        guard string.unicodeScalars.contains(where: { $0.value >= escapeBase && $0.value <= escapeBase + 0xFF }) else {
            return string
        }
        var out = ""
        for scalar in string.unicodeScalars {
            if scalar.value >= escapeBase && scalar.value <= escapeBase + 0xFF {
                let hex = String(scalar.value - escapeBase, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Calls `body` with the NUL-terminated bytes of `path`; nil if the path holds a NUL byte,
    /// which no file name can.
    public static func withCString<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R? {
        var raw = bytes(of: path)
        if raw.contains(0) { return nil }
        raw.append(0)
        return try raw.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    private static func strlenBytes(_ p: UnsafePointer<CChar>) -> Int {
        var n = 0
        while p[n] != 0 { n += 1 }
        return n
    }

    /// One well-formed UTF-8 sequence at `i` (no overlong forms, no surrogates, at most U+10FFFF).
    private static func decodeScalar(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let b0 = b[i]
        if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
        func continuation(_ k: Int) -> UInt32? {
            guard i + k < b.count, b[i + k] & 0xC0 == 0x80 else { return nil }
            return UInt32(b[i + k] & 0x3F)
        }
        let value: UInt32, length: Int
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = continuation(1) else { return nil }
            value = UInt32(b0 & 0x1F) << 6 | c1; length = 2
        case 0xE0...0xEF:
            guard let c1 = continuation(1), let c2 = continuation(2) else { return nil }
            value = UInt32(b0 & 0x0F) << 12 | c1 << 6 | c2; length = 3
            guard value >= 0x800, !(0xD800...0xDFFF).contains(value) else { return nil }
        case 0xF0...0xF4:
            guard let c1 = continuation(1), let c2 = continuation(2), let c3 = continuation(3) else { return nil }
            value = UInt32(b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3; length = 4
            guard value >= 0x10000, value <= 0x10FFFF else { return nil }
        default:
            return nil
        }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
