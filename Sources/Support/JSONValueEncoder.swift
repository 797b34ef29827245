import Foundation

/// Encodes `Encodable` values as `JSONValue`, each Swift type keeping its JSON kind: integers as
/// integer numbers, `Float`/`Double` always with a decimal point or an exponent (`1.0`, `1e-05`),
/// `Bool` as true/false. Nothing passes through `NSNumber`, which turns 0 and 1 into booleans and
/// 1.0 into 1 (readers that check types, such as transformers' config classes, refuse both).
/// Non-finite numbers are refused (`EncodingError.invalidValue`); keys keep their encoding order.
public enum JSONValueEncoder {
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try encodeValue(value, path: [])
    }

    /// A number's JSON text for a floating-point value: Swift's shortest round-trip form, which
    /// always has a '.' or an exponent (Python's `json` reads it back as a float).
    public static func floatText<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F, path: [CodingKey] = []) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "\(value) is not a finite number; JSON has no NaN or infinity"))
        }
        return .number(value.description)
    }

    static func encodeValue<T: Encodable>(_ value: T, path: [CodingKey]) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        if let primitive = try primitive(value, path: path) { return primitive }
        let box = Node()
        try value.encode(to: NodeEncoder(node: box, codingPath: path))
        return box.json
    }

    /// Booleans, strings, integers and floating-point values, by their Swift type.
    private static func primitive(_ value: Any, path: [CodingKey]) throws -> JSONValue? {
        switch value {
        case let b as Bool: return .bool(b)
        case let s as String: return .string(s)
        case let d as Double: return try floatText(d, path: path)
        case let f as Float: return try floatText(f, path: path)
        case let i as any FixedWidthInteger: return .number(String(describing: i))
        default: return nil
        }
    }
}

/// What one value encoded to so far: nothing, a finished value, or an object/array still being filled.
private final class Node {
    enum Content { case empty, value(JSONValue), object([(String, Node)]), array([Node]) }
    var content = Content.empty

    var json: JSONValue {
        switch content {
        case .empty: return .object([])
        case let .value(v): return v
        case let .object(members): return .object(members.map { ($0.0, $0.1.json) })
        case let .array(items): return .array(items.map(\.json))
        }
    }

    func member(_ key: String) -> Node {
        let child = Node()
        var members: [(String, Node)] = []
        if case let .object(existing) = content { members = existing.filter { $0.0 != key } }
        content = .object(members + [(key, child)])
        return child
    }

    func appendItem() -> Node {
        let child = Node()
        if case let .array(items) = content { content = .array(items + [child]) } else { content = .array([child]) }
        return child
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedNode<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNode(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleNode(node: node, codingPath: codingPath) }
}

private struct PathKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

private struct KeyedNode<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let child = node.member(key.stringValue)
        child.content = .value(try JSONValueEncoder.encodeValue(value, path: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder { NodeEncoder(node: node.member("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder { NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]) }
}

private struct UnkeyedNode: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [CodingKey]
    var count: Int { if case let .array(items) = node.content { return items.count }; return 0 }
    private var nextPath: [CodingKey] { codingPath + [PathKey(intValue: count)] }

    mutating func encodeNil() throws { node.appendItem().content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = nextPath
        node.appendItem().content = .value(try JSONValueEncoder.encodeValue(value, path: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        return NodeEncoder(node: node.appendItem(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let path = nextPath
        return NodeEncoder(node: node.appendItem(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
        let path = nextPath
        return NodeEncoder(node: node.appendItem(), codingPath: path)
    }
}

private struct SingleNode: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        node.content = .value(try JSONValueEncoder.encodeValue(value, path: codingPath))
    }
}
