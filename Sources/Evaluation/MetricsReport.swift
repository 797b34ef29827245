import Foundation
import Support

/// Helpers shared by the metrics writers: JSON encoding and table formatting (CSV files are
/// written by `CSVWriter`).
public enum MetricsReport {
    /// The one JSON encoding of dinoprobe's results: pretty-printed, sorted keys in snake_case
    /// (`JSONKeys`), unescaped slashes, ISO 8601 dates, and a NaN or infinite number (a diverged
    /// learning rate's loss) written as `null`, never an encoding error half-way through writing
    /// a run's results. Wrap metrics in your own `Encodable` struct to add context.
    public static func jsonData<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = JSONKeys.strategy
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: nonFinite, negativeInfinity: nonFinite, nan: nonFinite)
        let encoded = try encoder.encode(value)
        let placeholder = Data("\"\(nonFinite)\"".utf8)
        var data = Data(capacity: encoded.count + 1)
        var rest = encoded.startIndex
        while let found = encoded.range(of: placeholder, in: rest..<encoded.endIndex) {
            data.append(encoded[rest..<found.lowerBound])
            data.append(contentsOf: Array("null".utf8))
            rest = found.upperBound
        }
        data.append(encoded[rest...])
        data.append(0x0A)
        return data
    }

    /// What the encoder writes for a non-finite number before it becomes `null`: random per
    /// process, so no string in the data can be mistaken for it.
    private static let nonFinite = "dinoprobe-non-finite-" + UUID().uuidString

    /// Writes `value` as pretty JSON with sorted keys to `path` (whole file or nothing).
    public static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        try AtomicFile.write(jsonData(value), to: path)
    }

    /// A fraction as a percentage with two decimals ("91.23%"), or "-" for nil.
    public static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.2f%%", value * 100)
    }

    /// `text` cut to `width` characters (ending in "..") or padded with spaces to `width`.
    static func fit(_ text: String, _ width: Int, right: Bool = false) -> String {
        var t = text
        if t.count > width { t = width > 2 ? String(t.prefix(width - 2)) + ".." : String(t.prefix(width)) }
        let pad = String(repeating: " ", count: max(0, width - t.count))
        return right ? pad + t : t + pad
    }

    /// Width of the name column: the longest name, between `minimum` and `maximum`.
    static func nameWidth(_ names: [String], minimum: Int, maximum: Int) -> Int {
        min(maximum, max(minimum, names.map(\.count).max() ?? 0))
    }
}
