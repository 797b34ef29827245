import Foundation

extension JSONValue {
    /// The JSON text of this value, numbers written as their literal text (so an integer stays
    /// an integer and `1.0` stays a float): indented by `indent` spaces per level as Python's
    /// `json.dumps(indent=...)` does (nil: on one line), object keys sorted when `sortedKeys`.
    public func text(indent: Int? = 2, sortedKeys: Bool = false) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0, sortedKeys: sortedKeys)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int, sortedKeys: Bool) {
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) } ?? ""
        let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(text): out += text
        case let .string(s): out += Self.quoted(s)
        case let .array(items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                out += (i == 0 ? "" : ",") + newline
                item.write(into: &out, indent: indent, level: level + 1, sortedKeys: sortedKeys)
            }
            out += closing + "]"
        case let .object(members):
            guard !members.isEmpty else { out += "{}"; return }
            let ordered = sortedKeys ? members.sorted { $0.0 < $1.0 } : members
            out += "{"
            for (i, (key, value)) in ordered.enumerated() {
                out += (i == 0 ? "" : ",") + newline + Self.quoted(key) + (indent == nil ? ":" : ": ")
                value.write(into: &out, indent: indent, level: level + 1, sortedKeys: sortedKeys)
            }
            out += closing + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
