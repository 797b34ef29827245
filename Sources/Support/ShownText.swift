/// Text from outside dinoprobe (a file name, a tensor name, a server's answer) as a message
/// shows it: bytes that are not UTF-8 as `\xNN`, line breaks and tabs as `\n`, `\r` and `\t`,
/// other control characters as `\u{NN}`. Interpolate values through it when building a message,
/// so that a value can neither start a line of its own (forging an `error:` line) nor drive the
/// terminal; the message keeps its own line breaks.
public func shown(_ value: String) -> String {
    TerminalText.escaped(value, keeping: [])
}

/// The escaping behind `shown` and the command line's terminal output.
public enum TerminalText {
    /// `text` with escaped file-name bytes as `\xNN` and control characters (C0, DEL, C1) other
    /// than those in `keeping` escaped: `\n`, `\r`, `\t` by name, the rest as `\u{NN}`.
    public static func escaped(_ text: String, keeping: Set<Unicode.Scalar>) -> String {
        let display = PathCodec.display(text)
        func escapes(_ s: Unicode.Scalar) -> Bool {
            (s.value < 0x20 || (0x7F...0x9F).contains(s.value)) && !keeping.contains(s)
        }
        guard display.unicodeScalars.contains(where: escapes) else { return display }
        var out = String.UnicodeScalarView()
        for scalar in display.unicodeScalars {
            guard escapes(scalar) else { out.append(scalar); continue }
            let name: String
            switch scalar {
            case "\n": name = "\\n"
            case "\r": name = "\\r"
            case "\t": name = "\\t"
            default: name = "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
            out.append(contentsOf: name.unicodeScalars)
        }
        return String(out)
    }
}

/// An error whose message may span lines: when `keepsLineBreaks`, every outside value in its
/// description went through `shown`, so its line breaks are its own and the command line keeps
/// them. Any other error message is shown as one line (its line breaks escaped).
public protocol MultilineMessage: Error {
    var keepsLineBreaks: Bool { get }
}
