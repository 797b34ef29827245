import Foundation

/// A cell of a CSV file: text, or a number that is written as a number.
public enum CSVCell: Sendable, Equatable, ExpressibleByStringLiteral {
    /// Text: neutralised against formula injection and encoded losslessly (see `CSVWriter`).
    case text(String)
    /// An integer, written in decimal.
    case integer(Int64)
    /// A floating-point number, written as Swift prints it (`-0.5`, `nan`, `inf`).
    case number(Double)
    /// A single-precision number, written as Swift prints it.
    case float(Float)
    /// An empty cell (an unknown value).
    case empty

    public init(stringLiteral value: String) { self = .text(value) }

    /// An integer cell.
    public static func int(_ value: Int) -> CSVCell { .integer(Int64(value)) }
}

/// The one writer of every CSV file dinoprobe writes: RFC 4180 quoting (a cell holding a comma,
/// quote or line break is quoted, quotes doubled), one row per line, LF line ends.
///
/// Text cells are made safe to open in a spreadsheet and to read back exactly:
/// - Formula injection (OWASP): a text cell starting with `=`, `+`, `-`, `@`, tab or carriage
///   return is prefixed with `'`, so spreadsheets show it as text instead of running it. A cell
///   that starts with `'` itself gets the prefix too, so readers undo it unambiguously: drop one
///   leading `'` from a text cell that starts with one. Numbers are never prefixed (`-0.5` stays
///   a number).
/// - File names that are not UTF-8 (carried in `PathCodec`'s private-use code points) are
///   percent-encoded: each byte that is not UTF-8 is written `%NN`, and a literal `%` as `%25`,
///   so every text cell is valid UTF-8 and `urllib.parse.unquote_to_bytes` gives back the exact
///   bytes (`unquote` for names that are UTF-8).
public struct CSVWriter: Sendable {
    /// The CSV text so far.
    public private(set) var text: String

    /// A writer whose first row is `header` (text cells).
    public init(header: [String]) {
        text = ""
        row(header.map(CSVCell.text))
    }

    /// Appends one row.
    public mutating func row(_ cells: [CSVCell]) {
        var first = true
        for cell in cells {
            if !first { text += "," }
            first = false
            text += Self.field(cell)
        }
        text += "\n"
    }

    /// The CSV text as UTF-8 bytes.
    public var data: [UInt8] { Array(text.utf8) }

    /// Characters that make a spreadsheet read a cell as a formula (OWASP's list), and the
    /// neutralising prefix itself.
    public static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "'"]

    /// One cell as it is written.
    public static func field(_ cell: CSVCell) -> String {
        switch cell {
        case let .text(value): return quoted(neutralised(encoded(value)))
        case let .integer(value): return String(value)
        case let .number(value): return String(value)
        case let .float(value): return String(value)
        case .empty: return ""
        }
    }

    /// `text` with the bytes that are not UTF-8 as `%NN` and `%` as `%25` (the inverse of what
    /// a percent-decoder does).
    public static func encoded(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "%" || PathCodec.isEscapedByte($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let byte = PathCodec.escapedByte(scalar) {
                out.append(contentsOf: percent(byte).unicodeScalars)
            } else if scalar == "%" {
                out.append(contentsOf: "%25".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `text` with the `'` prefix when it starts with a formula character.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, formulaStarts.contains(first) else { return text }
        return "'" + text
    }

    /// `text` quoted (RFC 4180) when it holds a comma, quote or line break.
    static func quoted(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        // Scalar by scalar: a quote followed by a combining mark is one Character, which
        // `replacingOccurrences` (grapheme-based) would leave undoubled.
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in text.unicodeScalars {
            out.append(scalar)
            if scalar == "\"" { out.append("\"") }
        }
        out.append("\"")
        return String(out)
    }

    private static func percent(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "%" + (hex.count == 1 ? "0" + hex : hex)
    }
}
