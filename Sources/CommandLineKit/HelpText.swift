/// A command's help discussion that starts with its usage examples (one per line, without the
/// leading `dinoprobe`), then `text`.
public func examples(_ lines: String..., then text: String = "") -> String {
    "Examples:\n" + lines.map { "  dinoprobe " + $0 }.joined(separator: "\n") + (text.isEmpty ? "" : "\n\n" + text)
}
