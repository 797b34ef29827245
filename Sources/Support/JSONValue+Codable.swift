import Foundation

extension JSONValue: Encodable {
    /// Encodes as the JSON it stands for (numbers as integers when they are, else as doubles).
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case let .bool(b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case let .number(text):
            var c = encoder.singleValueContainer()
            if let i = Int64(text) { try c.encode(i) } else if let u = UInt64(text) { try c.encode(u) } else { try c.encode(Double(text) ?? 0) }
        case let .string(s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case let .array(values):
            var c = encoder.unkeyedContainer()
            for v in values { try c.encode(v) }
        case let .object(members):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in members { try c.encode(v, forKey: AnyKey(k)) }
        }
    }

    private struct AnyKey: VerbatimCodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A JSON value for a Swift value: numbers, strings, booleans, optionals (nil is null),
    /// arrays, string-keyed dictionaries, and `RawRepresentable` enums (their raw value); any
    /// other value as its description.
    /// A whole number without its `.0` (shots 1, not 1.0); a non-finite one as text.
    private init(number: Double, text: String) {
        guard number.isFinite else { self = .string(text); return }
        self = .number(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : text)
    }

    public init(describing value: Any) {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            self = mirror.children.first.map { JSONValue(describing: $0.value) } ?? .null
            return
        }
        switch value {
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .number(String(i))
        case let i as Int64: self = .number(String(i))
        case let u as UInt64: self = .number(String(u))
        case let u as UInt32: self = .number(String(u))
        case let f as Float: self = JSONValue(number: Double(f), text: String(f))
        case let d as Double: self = JSONValue(number: d, text: String(d))
        case let s as String: self = .string(s)
        case let r as any RawRepresentable: self = JSONValue(describing: r.rawValue)
        case let a as [Any]: self = .array(a.map { JSONValue(describing: $0) })
        case let d as [String: Any]: self = .object(d.sorted { $0.key < $1.key }.map { ($0.key, JSONValue(describing: $0.value)) })
        default: self = .string(String(describing: value))
        }
    }
}
