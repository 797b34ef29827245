import Foundation
import Support

extension FuzzTargets {
    /// The CSV writer: the input is split into rows (byte 0x1E) of cells (0x1F); a cell whose
    /// first byte is 0x01 is the number made of its next 8 bytes, any other cell is text (its bytes
    /// as a file name, so bytes that are not UTF-8 occur). What the writer wrote must parse back
    /// (RFC 4180) into the same rows: text cells equal after undoing the `'` prefix and the
    /// percent-encoding, no text cell starting with a formula character, numbers as written.
    @Sendable public static func csv(_ data: Data) {
        let rows = Array(data).split(separator: 0x1E, omittingEmptySubsequences: false).map {
            $0.split(separator: 0x1F, omittingEmptySubsequences: false).map(cell)
        }
        var writer = CSVWriter(header: ["header"])
        for row in rows { writer.row(row) }
        guard let parsed = CSVReading.parse(writer.text) else { fatalError("the CSV writer wrote text that does not parse: \(writer.text.debugDescription)") }
        guard parsed.count == rows.count + 1 else { fatalError("\(rows.count + 1) rows written, \(parsed.count) read back") }
        for (written, read) in zip(rows, parsed.dropFirst()) {
            guard written.count == read.count else { fatalError("a row of \(written.count) cells read back as \(read.count)") }
            for (cell, text) in zip(written, read) { check(cell, readAs: text) }
        }
    }

    static func cell(_ bytes: ArraySlice<UInt8>) -> CSVCell {
        guard bytes.first == 0x01, bytes.count == 9 else { return .text(PathCodec.string(fromBytes: bytes)) }
        let bits = bytes.dropFirst().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return .number(Double(bitPattern: bits))
    }

    static func check(_ cell: CSVCell, readAs text: String) {
        switch cell {
        case let .text(value):
            if let first = text.unicodeScalars.first, CSVWriter.formulaStarts.contains(first), first != "'" {
                fatalError("text cell \(text.debugDescription) starts with a formula character")
            }
            guard let bytes = CSVReading.originalBytes(ofText: text), bytes == PathCodec.bytes(of: value) else {
                fatalError("text cell \(value.debugDescription) read back as \(text.debugDescription)")
            }
        default:
            guard text == CSVWriter.field(cell) else { fatalError("number \(cell) read back as \(text.debugDescription)") }
        }
    }
}

/// A small, strict RFC 4180 reader (LF or CR LF line ends), for checking what `CSVWriter`
/// writes: the fuzz target and the tests parse its output with it.
public enum CSVReading {
    /// The rows of `text` (which must end with a line end), each a list of unquoted cells; nil
    /// when it is not well-formed CSV (a stray quote, an unterminated quoted cell).
    public static func parse(_ text: String) -> [[String]]? {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars)[...]
        var quoted = false, wasQuoted = false
        while let c = scalars.popFirst() {
            if quoted {
                if c != "\"" { cell.append(c); continue }
                if scalars.first == "\"" { scalars.removeFirst(); cell.append("\"") } else { quoted = false }
                continue
            }
            switch c {
            case "\"":
                guard cell.isEmpty, !wasQuoted else { return nil }
                quoted = true; wasQuoted = true
            case ",":
                row.append(String(cell)); cell = .init(); wasQuoted = false
            case "\r", "\n":
                if c == "\r" { guard scalars.popFirst() == "\n" else { return nil } }
                row.append(String(cell)); rows.append(row)
                row = []; cell = .init(); wasQuoted = false
            default:
                guard !wasQuoted else { return nil }
                cell.append(c)
            }
        }
        guard !quoted, row.isEmpty, cell.isEmpty else { return nil }
        return rows
    }

    /// The bytes a text cell stood for: one leading `'` dropped, then `%NN` decoded; nil for a
    /// malformed escape or a cell that should have had the prefix and has not.
    public static func originalBytes(ofText text: String) -> [UInt8]? {
        var unprefixed = text
        if unprefixed.unicodeScalars.first == "'" { unprefixed.unicodeScalars.removeFirst() }
        else if let first = unprefixed.unicodeScalars.first, CSVWriter.formulaStarts.contains(first) { return nil }
        var out: [UInt8] = []
        let utf8 = Array(unprefixed.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%") {
                guard i + 2 < utf8.count, let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
