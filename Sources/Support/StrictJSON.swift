import Foundation

/// A JSON value as read by `StrictJSON`. Numbers keep their literal text, so that converting
/// them is explicit and checked (`int`, `double`).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in file order (keys are unique).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)), let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var string: String? { if case let .string(s) = self { return s }; return nil }
    public var bool: Bool? { if case let .bool(b) = self { return b }; return nil }

    /// An integer number that fits in Int (no fraction, no exponent).
    public var int: Int? {
        guard case let .number(text) = self, !text.contains("."), !text.lowercased().contains("e") else { return nil }
        return Int(text)
    }

    /// A finite number.
    public var double: Double? {
        guard case let .number(text) = self, let value = Double(text), value.isFinite else { return nil }
        return value
    }
}

/// A strict JSON reader for files that come from strangers (config.json, shard indexes): RFC 8259
/// syntax only, duplicate keys refused (so a value never depends on which copy a reader keeps),
/// depth and value count bounded, invalid UTF-8 refused. Never traps on any input.
public enum StrictJSON {
    public typealias Failure = JSONScanner.Failure

    /// Most nested arrays/objects.
    public static let maxDepth = 64
    /// Most values in one document (bounds the memory a parse can take).
    public static let maxValues = 1_000_000

    public static func parse(_ data: Data) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure> = data.withUnsafeBytes { raw in
            var reader = Reader(scanner: JSONScanner(raw))
            do throws(Failure) { return .success(try reader.document()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private struct Reader {
        var scanner: JSONScanner
        var values = 0

        mutating func document() throws(Failure) -> JSONValue {
            scanner.skipWhitespace()
            let value = try self.value(depth: 0)
            scanner.skipWhitespace()
            guard scanner.atEnd else { throw scanner.fail("unexpected bytes after the JSON value") }
            return value
        }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            values += 1
            guard values <= StrictJSON.maxValues else { throw scanner.fail("more than \(StrictJSON.maxValues) values") }
            guard let c = scanner.peek() else { throw scanner.fail("unexpected end of the document") }
            switch c {
            case UInt8(ascii: "{"):
                guard depth < StrictJSON.maxDepth else { throw scanner.fail("nested more than \(StrictJSON.maxDepth) levels deep") }
                _ = scanner.consume(c)
                var members: [(String, JSONValue)] = []
                var keys = Set<String>()
                scanner.skipWhitespace()
                if scanner.consume(UInt8(ascii: "}")) { return .object(members) }
                while true {
                    scanner.skipWhitespace()
                    let key = try scanner.string()
                    guard keys.insert(key).inserted else { throw scanner.fail("the key '\(key.prefix(80))' appears twice") }
                    scanner.skipWhitespace()
                    try scanner.expect(UInt8(ascii: ":"), "expected ':'")
                    scanner.skipWhitespace()
                    members.append((key, try value(depth: depth + 1)))
                    scanner.skipWhitespace()
                    if scanner.consume(UInt8(ascii: ",")) { continue }
                    try scanner.expect(UInt8(ascii: "}"), "expected ',' or '}'")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                guard depth < StrictJSON.maxDepth else { throw scanner.fail("nested more than \(StrictJSON.maxDepth) levels deep") }
                _ = scanner.consume(c)
                var items: [JSONValue] = []
                scanner.skipWhitespace()
                if scanner.consume(UInt8(ascii: "]")) { return .array(items) }
                while true {
                    scanner.skipWhitespace()
                    items.append(try value(depth: depth + 1))
                    scanner.skipWhitespace()
                    if scanner.consume(UInt8(ascii: ",")) { continue }
                    try scanner.expect(UInt8(ascii: "]"), "expected ',' or ']'")
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try scanner.string())
            case UInt8(ascii: "t"):
                try scanner.literal("true"); return .bool(true)
            case UInt8(ascii: "f"):
                try scanner.literal("false"); return .bool(false)
            case UInt8(ascii: "n"):
                try scanner.literal("null"); return .null
            default:
                return .number(try scanner.numberText())
            }
        }
    }
}
