import Foundation

/// `Decodable` types read through `StrictJSON`: duplicate keys and bad syntax are refused by the
/// parser, and every number is converted exactly (an `Int` field takes only an integer that fits;
/// a `Double` field only a finite value), with errors naming the field and the value.
public enum StrictJSONDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decode(type, from: StrictJSON.parse(data))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(members) = value else { throw mismatch(value, "an object", codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(members: Dictionary(members, uniquingKeysWith: { a, _ in a }), codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case let .array(items) = value else { throw mismatch(value, "an array", codingPath) }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }
}

private func describe(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case let .bool(b): return "\(b)"
    case let .number(n): return n.count > 40 ? String(n.prefix(40)) + "..." : n
    case let .string(s): return "\"\(s.prefix(40))\""
    case .array: return "an array"
    case .object: return "an object"
    }
}

private func mismatch(_ value: JSONValue, _ expected: String, _ path: [CodingKey]) -> DecodingError {
    .typeMismatch(Any.self, .init(codingPath: path, debugDescription: "expected \(expected), found \(describe(value))"))
}

/// Converts one JSON value to a primitive, exactly.
private func primitive<T>(_ type: T.Type, _ value: JSONValue, _ path: [CodingKey]) throws -> T {
    switch type {
    case is Bool.Type:
        guard let b = value.bool else { throw mismatch(value, "true or false", path) }
        return b as! T
    case is String.Type:
        guard let s = value.string else { throw mismatch(value, "a string", path) }
        return s as! T
    case is Double.Type, is Float.Type:
        guard case let .number(text) = value, let d = Double(text), d.isFinite else { throw mismatch(value, "a finite number", path) }
        if type is Float.Type {
            guard Float(d).isFinite else { throw mismatch(value, "a number within Float range", path) }
            return Float(d) as! T
        }
        return d as! T
    default:
        guard case let .number(text) = value else { throw mismatch(value, "an integer", path) }
        // Integers, and integral decimals such as 384.0 that some writers produce.
        let integer: Int64?
        if let i = Int64(text) { integer = i } else if let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9.0e15 { integer = Int64(d) } else { integer = nil }
        guard let i = integer else { throw mismatch(value, "an integer that fits", path) }
        switch type {
        case is Int.Type: return Int(i) as! T
        case is Int64.Type: return i as! T
        case is Int32.Type: if let v = Int32(exactly: i) { return v as! T }
        case is UInt8.Type: if let v = UInt8(exactly: i) { return v as! T }
        case is UInt16.Type: if let v = UInt16(exactly: i) { return v as! T }
        case is UInt32.Type: if let v = UInt32(exactly: i) { return v as! T }
        case is UInt64.Type: if let v = UInt64(exactly: i) { return v as! T }
        case is UInt.Type: if let v = UInt(exactly: i) { return v as! T }
        case is Int8.Type: if let v = Int8(exactly: i) { return v as! T }
        case is Int16.Type: if let v = Int16(exactly: i) { return v as! T }
        default: break
        }
        throw mismatch(value, "an integer in the range of \(type)", path)
    }
}

private func decodeValue<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [CodingKey]) throws -> T {
    switch type {
    case is Bool.Type, is String.Type, is Double.Type, is Float.Type, is Int.Type, is Int64.Type, is Int32.Type,
         is Int16.Type, is Int8.Type, is UInt.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type:
        return try primitive(type, value, path)
    default:
        return try T(from: ValueDecoder(value: value, codingPath: path))
    }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [CodingKey]
    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func value(_ key: Key) throws -> JSONValue {
        guard let v = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no '\(key.stringValue)'"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, value(key), codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = members[key.stringValue], v != .null else { return nil }
        return try decodeValue(type, v, codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(members.map { ($0.key, $0.value) }), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { ValueDecoder(value: try value(key), codingPath: codingPath + [key]) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func next() throws -> (JSONValue, [CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the array ended early"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [AnyKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, path) = try next()
        return try decodeValue(type, v, path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, path) = try next()
        return try ValueDecoder(value: v, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (v, path) = try next()
        return try ValueDecoder(value: v, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (v, path) = try next()
        return ValueDecoder(value: v, codingPath: path)
    }
}

private struct Single: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]
    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, value, codingPath) }
}
