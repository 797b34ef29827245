import Support

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

    typealias Failure = JSONScanner.Failure

    /// Most tensors accepted in one file (the 7B model has about 520 per file); bounds memory.
    static let maxTensors = 65_536
    /// Most metadata entries.
    static let maxMetadataEntries = 65_536
    /// Most dimensions of one tensor.
    static let maxRank = 16

    private var scanner: JSONScanner

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> (entries: [(String, Entry)], metadata: [String: String]) {
        var parser = HeaderParser(scanner: JSONScanner(bytes))
        return try parser.document()
    }

    private mutating func document() throws(Failure) -> (entries: [(String, Entry)], metadata: [String: String]) {
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: "{"), "the header must be a JSON object")
        var entries: [(String, Entry)] = []
        var seen = Set<String>()
        var metadata: [String: String]?
        try members(closing: UInt8(ascii: "}")) { (parser: inout HeaderParser, key: String) throws(Failure) in
            guard seen.insert(key).inserted else { throw parser.scanner.fail("the key '\(Self.clip(key))' appears twice") }
            if key == "__metadata__" {
                metadata = try parser.stringMap()
            } else {
                guard entries.count < Self.maxTensors else { throw parser.scanner.fail("more than \(Self.maxTensors) tensors") }
                entries.append((key, try parser.entry(key)))
            }
        }
        // The writer pads the header with spaces to a multiple of 8 bytes; nothing else may follow.
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.fail("unexpected bytes after the header object") }
        return (entries, metadata ?? [:])
    }

    /// Reads `"key": value` members up to `closing`, calling `body` for each value.
    private mutating func members(closing: UInt8,
                                  _ body: (inout HeaderParser, String) throws(Failure) -> Void) throws(Failure) {
        scanner.skipWhitespace()
        if scanner.consume(closing) { return }
        while true {
            scanner.skipWhitespace()
            let key = try scanner.string()
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"), "expected ':' after '\(Self.clip(key))'")
            scanner.skipWhitespace()
            try body(&self, key)
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            try scanner.expect(closing, "expected ',' or '\(Character(Unicode.Scalar(closing)))' after '\(Self.clip(key))'")
            return
        }
    }

    private mutating func entry(_ name: String) throws(Failure) -> Entry {
        let clipped = Self.clip(name)
        try scanner.expect(UInt8(ascii: "{"), "entry '\(clipped)' is not an object")
        var dtype: String?, shape: [Int]?, offsets: [Int]?
        try members(closing: UInt8(ascii: "}")) { (parser: inout HeaderParser, field: String) throws(Failure) in
            switch field {
            case "dtype" where dtype == nil: dtype = try parser.scanner.string()
            case "shape" where shape == nil: shape = try parser.integers(limit: Self.maxRank, what: "shape of '\(clipped)'")
            case "data_offsets" where offsets == nil: offsets = try parser.integers(limit: 2, what: "data_offsets of '\(clipped)'")
            case "dtype", "shape", "data_offsets": throw parser.scanner.fail("entry '\(clipped)' has '\(field)' twice")
            default: throw parser.scanner.fail("entry '\(clipped)' has an unknown field '\(Self.clip(field))'")
            }
        }
        guard let dtype, let shape, let offsets, offsets.count == 2 else {
            throw scanner.fail("entry '\(clipped)' lacks dtype, shape or a pair of data_offsets")
        }
        return Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    private mutating func stringMap() throws(Failure) -> [String: String] {
        try scanner.expect(UInt8(ascii: "{"), "__metadata__ must be an object of strings")
        var map: [String: String] = [:]
        try members(closing: UInt8(ascii: "}")) { (parser: inout HeaderParser, key: String) throws(Failure) in
            guard parser.scanner.peek() == UInt8(ascii: "\"") else {
                throw parser.scanner.fail("__metadata__ value of '\(Self.clip(key))' is not a string")
            }
            guard map.count < Self.maxMetadataEntries else { throw parser.scanner.fail("more than \(Self.maxMetadataEntries) metadata entries") }
            guard map.updateValue(try parser.scanner.string(), forKey: key) == nil else {
                throw parser.scanner.fail("__metadata__ has the key '\(Self.clip(key))' twice")
            }
        }
        return map
    }

    /// `[n, n, ...]` of non-negative integers that fit in Int, at most `limit` of them.
    private mutating func integers(limit: Int, what: String) throws(Failure) -> [Int] {
        try scanner.expect(UInt8(ascii: "["), "\(what) is not an array")
        var values: [Int] = []
        scanner.skipWhitespace()
        if scanner.consume(UInt8(ascii: "]")) { return values }
        while true {
            scanner.skipWhitespace()
            guard values.count < limit else { throw scanner.fail("\(what) has more than \(limit) values") }
            let text = try scanner.numberText()
            guard let value = Int(text), value >= 0, !text.hasPrefix("-") else {
                throw scanner.fail("\(what) holds '\(text.prefix(24))', not a non-negative integer that fits this machine")
            }
            values.append(value)
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            try scanner.expect(UInt8(ascii: "]"), "expected ',' or ']' in \(what)")
            return values
        }
    }

    /// A key shortened for messages.
    static func clip(_ s: String) -> String { s.count <= 80 ? s : String(s.prefix(77)) + "..." }
}
