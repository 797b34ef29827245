/// The lexical layer of the strict JSON readers (`StrictJSON`, the safetensors header parser):
/// a cursor over bytes that reads strings (escapes decoded, UTF-8 validated), number literals
/// and punctuation, and fails with a reason and an offset instead of trapping.
public struct JSONScanner {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let reason: String
        public let offset: Int
        public var description: String { "\(reason) (at byte \(offset))" }
    }

    public let bytes: UnsafeRawBufferPointer
    public private(set) var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var atEnd: Bool { position >= bytes.count }

    public func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: position) }

    /// The byte `ahead` positions from the cursor, or nil past the end.
    public func peek(_ ahead: Int = 0) -> UInt8? {
        position + ahead < bytes.count ? bytes[position + ahead] : nil
    }

    /// Consumes `byte` if it is next; true if it was.
    public mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    public mutating func expect(_ byte: UInt8, _ reason: @autoclosure () -> String) throws(Failure) {
        guard consume(byte) else { throw fail(reason()) }
    }

    public mutating func skipWhitespace() {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
    }

    /// Consumes `word` (a literal such as `true`).
    public mutating func literal(_ word: StaticString) throws(Failure) {
        let start = position
        for k in 0..<word.utf8CodeUnitCount {
            guard peek() == word.utf8Start[k] else { position = start; throw fail("invalid literal") }
            position += 1
        }
    }

    /// A number literal's text, validated against the JSON grammar (at most 400 characters).
    public mutating func numberText() throws(Failure) -> String {
        let start = position
        _ = consume(UInt8(ascii: "-"))
        guard let first = peek(), Self.isDigit(first) else { throw fail("invalid value") }
        if first == UInt8(ascii: "0") {
            position += 1
        } else {
            while let d = peek(), Self.isDigit(d) { position += 1 }
        }
        if consume(UInt8(ascii: ".")) {
            guard let d = peek(), Self.isDigit(d) else { throw fail("invalid number") }
            while let d = peek(), Self.isDigit(d) { position += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            position += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { position += 1 }
            guard let d = peek(), Self.isDigit(d) else { throw fail("invalid number") }
            while let d = peek(), Self.isDigit(d) { position += 1 }
        }
        guard position - start <= 400 else { throw fail("a number literal of \(position - start) characters") }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// A string (the cursor on its opening quote).
    public mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "expected a string")
        // Fast path: plain printable ASCII up to the closing quote, taken in one piece.
        let start = position
        while let c = peek(), c >= 0x20, c < 0x80, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") { position += 1 }
        if peek() == UInt8(ascii: "\"") {
            position += 1
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(position - 1)]), as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self).unicodeScalars)
        while true {
            guard let c = peek() else { throw fail("a string is not terminated") }
            if c == UInt8(ascii: "\"") { position += 1; return String(scalars) }
            guard c >= 0x20 else { throw fail("a raw control character in a string") }
            if c == UInt8(ascii: "\\") {
                position += 1
                guard let e = peek() else { throw fail("a string ends inside an escape") }
                position += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else { throw fail("an unpaired surrogate escape") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("an unpaired surrogate escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("an invalid \\u escape") }
                    scalars.append(scalar)
                default:
                    throw fail("an invalid escape")
                }
                continue
            }
            scalars.append(try utf8Scalar())
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek() else { throw fail("a string ends inside an escape") }
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw fail("an invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// One well-formed UTF-8 scalar (no overlong forms, no surrogates).
    private mutating func utf8Scalar() throws(Failure) -> Unicode.Scalar {
        let b0 = bytes[position]
        if b0 < 0x80 { position += 1; return Unicode.Scalar(b0) }
        let length: Int, initial: UInt32, minimum: UInt32
        switch b0 {
        case 0xC2...0xDF: (length, initial, minimum) = (2, UInt32(b0 & 0x1F), 0x80)
        case 0xE0...0xEF: (length, initial, minimum) = (3, UInt32(b0 & 0x0F), 0x800)
        case 0xF0...0xF4: (length, initial, minimum) = (4, UInt32(b0 & 0x07), 0x10000)
        default: throw fail("invalid UTF-8")
        }
        guard bytes.count - position >= length else { throw fail("invalid UTF-8") }
        var value = initial
        for k in 1..<length {
            let c = bytes[position + k]
            guard c & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            value = value << 6 | UInt32(c & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { throw fail("invalid UTF-8") }
        position += length
        return scalar
    }
}
