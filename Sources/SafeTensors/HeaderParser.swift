/// A strict parser for the JSON header of a safetensors file, written for hostile input: the
/// grammar is exactly the format's (an object of tensor entries and an optional `__metadata__`
/// object of strings), so nesting is bounded by construction; duplicate keys, unknown entry
/// fields, non-integer or overflowing numbers, invalid UTF-8 and trailing bytes other than the
/// format's space padding are all errors. Nothing here traps on any input.
struct HeaderParser {
    struct Entry {
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Most tensors accepted in one file (the 7B model has about 520 per file); bounds memory.
    static let maxTensors = 65_536
    /// Most dimensions of one tensor.
    static let maxRank = 16

    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    struct Failure: Error { let reason: String }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> (entries: [(String, Entry)], metadata: [String: String]) {
        var parser = HeaderParser(bytes)
        return try parser.document()
    }

    private mutating func document() throws(Failure) -> (entries: [(String, Entry)], metadata: [String: String]) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"), "the header must be a JSON object")
        var entries: [(String, Entry)] = []
        var seen = Set<String>()
        var metadata: [String: String]?
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipWhitespace()
                let key = try string()
                guard seen.insert(key).inserted else { throw Failure(reason: "the key '\(Self.clip(key))' appears twice") }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected ':' after '\(Self.clip(key))'")
                skipWhitespace()
                if key == "__metadata__" {
                    metadata = try stringMap()
                } else {
                    guard entries.count < Self.maxTensors else { throw Failure(reason: "more than \(Self.maxTensors) tensors") }
                    entries.append((key, try entry(key)))
                }
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}' after '\(Self.clip(key))'")
                break
            }
        }
        // The writer pads the header with spaces to a multiple of 8 bytes; nothing else may follow.
        while i < bytes.count {
            guard Self.isWhitespace(bytes[i]) else { throw Failure(reason: "unexpected bytes after the header object") }
            i += 1
        }
        return (entries, metadata ?? [:])
    }

    private mutating func entry(_ name: String) throws(Failure) -> Entry {
        try expect(UInt8(ascii: "{"), "entry '\(Self.clip(name))' is not an object")
        var dtype: String?, shape: [Int]?, offsets: [Int]?
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { i += 1 } else {
            while true {
                skipWhitespace()
                let field = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected ':' in entry '\(Self.clip(name))'")
                skipWhitespace()
                switch field {
                case "dtype":
                    guard dtype == nil else { throw Failure(reason: "entry '\(Self.clip(name))' has 'dtype' twice") }
                    dtype = try string()
                case "shape":
                    guard shape == nil else { throw Failure(reason: "entry '\(Self.clip(name))' has 'shape' twice") }
                    shape = try integers(limit: Self.maxRank, what: "shape of '\(Self.clip(name))'")
                case "data_offsets":
                    guard offsets == nil else { throw Failure(reason: "entry '\(Self.clip(name))' has 'data_offsets' twice") }
                    offsets = try integers(limit: 2, what: "data_offsets of '\(Self.clip(name))'")
                default:
                    throw Failure(reason: "entry '\(Self.clip(name))' has an unknown field '\(Self.clip(field))'")
                }
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}' in entry '\(Self.clip(name))'")
                break
            }
        }
        guard let dtype, let shape, let offsets, offsets.count == 2 else {
            throw Failure(reason: "entry '\(Self.clip(name))' lacks dtype, shape or a pair of data_offsets")
        }
        return Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    private mutating func stringMap() throws(Failure) -> [String: String] {
        try expect(UInt8(ascii: "{"), "__metadata__ must be an object of strings")
        var map: [String: String] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { i += 1; return map }
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "expected ':' in __metadata__")
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw Failure(reason: "__metadata__ value of '\(Self.clip(key))' is not a string") }
            let value = try string()
            guard map.updateValue(value, forKey: key) == nil else {
                throw Failure(reason: "__metadata__ has the key '\(Self.clip(key))' twice")
            }
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in __metadata__")
            return map
        }
    }

    /// `[n, n, ...]` of non-negative integers that fit in Int, at most `limit` of them.
    private mutating func integers(limit: Int, what: String) throws(Failure) -> [Int] {
        try expect(UInt8(ascii: "["), "\(what) is not an array")
        var values: [Int] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { i += 1; return values }
        while true {
            skipWhitespace()
            guard values.count < limit else { throw Failure(reason: "\(what) has more than \(limit) values") }
            values.append(try integer(what))
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "]"), "expected ',' or ']' in \(what)")
            return values
        }
    }

    private mutating func integer(_ what: String) throws(Failure) -> Int {
        guard let first = peek(), first >= 0x30, first <= 0x39 else {
            throw Failure(reason: "\(what) holds something other than a non-negative integer")
        }
        if first == 0x30, let next = peek(1), next >= 0x30, next <= 0x39 {
            throw Failure(reason: "\(what) holds a number with a leading zero")
        }
        var value = 0
        while let d = peek(), d >= 0x30, d <= 0x39 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(d - 0x30))
            guard !o1, !o2 else { throw Failure(reason: "\(what) holds a number too large for this machine") }
            value = sum
            i += 1
        }
        if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            throw Failure(reason: "\(what) holds a number that is not an integer")
        }
        return value
    }

    /// A JSON string (escapes decoded, UTF-8 validated).
    private mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "expected a string")
        var scalars = String.UnicodeScalarView()
        while true {
            guard let c = peek() else { throw Failure(reason: "a string is not terminated") }
            if c == UInt8(ascii: "\"") { i += 1; return String(scalars) }
            if c < 0x20 { throw Failure(reason: "a string holds a raw control character") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard let e = peek() else { throw Failure(reason: "a string ends inside an escape") }
                i += 1
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
                        guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else {
                            throw Failure(reason: "a string holds an unpaired surrogate escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Failure(reason: "a string holds an unpaired surrogate escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw Failure(reason: "a string holds an invalid escape") }
                    scalars.append(scalar)
                default:
                    throw Failure(reason: "a string holds an invalid escape")
                }
                continue
            }
            scalars.append(try utf8Scalar())
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek() else { throw Failure(reason: "a string ends inside an escape") }
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw Failure(reason: "a string holds an invalid \\u escape")
            }
            value = value << 4 | digit
            i += 1
        }
        return value
    }

    /// One UTF-8 encoded scalar (well-formed: no overlong forms, no surrogates).
    private mutating func utf8Scalar() throws(Failure) -> Unicode.Scalar {
        let b0 = bytes[i]
        let invalid = Failure(reason: "the header is not valid UTF-8")
        if b0 < 0x80 { i += 1; return Unicode.Scalar(b0) }
        let length: Int, initial: UInt32, minimum: UInt32
        switch b0 {
        case 0xC2...0xDF: (length, initial, minimum) = (2, UInt32(b0 & 0x1F), 0x80)
        case 0xE0...0xEF: (length, initial, minimum) = (3, UInt32(b0 & 0x0F), 0x800)
        case 0xF0...0xF4: (length, initial, minimum) = (4, UInt32(b0 & 0x07), 0x10000)
        default: throw invalid
        }
        guard bytes.count - i >= length else { throw invalid }
        var value = initial
        for k in 1..<length {
            let c = bytes[i + k]
            guard c & 0xC0 == 0x80 else { throw invalid }
            value = value << 6 | UInt32(c & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { throw invalid }
        i += length
        return scalar
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        i + ahead < bytes.count ? bytes[i + ahead] : nil
    }

    private mutating func expect(_ byte: UInt8, _ reason: String) throws(Failure) {
        guard peek() == byte else { throw Failure(reason: reason) }
        i += 1
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, Self.isWhitespace(bytes[i]) { i += 1 }
    }

    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// A key shortened for messages.
    static func clip(_ s: String) -> String { s.count <= 80 ? s : String(s.prefix(77)) + "..." }
}
