import Foundation

/// A coding key written as it is (the keys of a JSON object held as data), never restyled.
public protocol VerbatimCodingKey: CodingKey {}

/// The one key style of dinoprobe's JSON files: snake_case.
public enum JSONKeys {
    /// `runID` -> `run_id`, `perClassIoU` -> `per_class_iou`, `macroF1` -> `macro_f1`; a
    /// one-letter prefix of a metric stays joined (`mIoU` -> `miou`, `aAcc` -> `aacc`).
    public static func snakeCase(_ key: String) -> String {
        let chars = Array(key.replacingOccurrences(of: "IoU", with: "Iou"))
        var out = ""
        for (i, c) in chars.enumerated() {
            let previous: Character? = i > 0 ? chars[i - 1] : nil, next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            let pluralAcronym = next == "s" && i + 2 == chars.count  // logicalCPUs
            let startsWord = c.isUppercase && i > 1
                && ((previous?.isLowercase ?? false) || (previous?.isNumber ?? false)
                    || ((previous?.isUppercase ?? false) && (next?.isLowercase ?? false) && !pluralAcronym))
            out += (startsWord ? "_" : "") + c.lowercased()
        }
        return out
    }

    /// The encoder's strategy: every key in snake_case, verbatim keys left alone.
    public static let strategy = JSONEncoder.KeyEncodingStrategy.custom { path in
        guard let key = path.last else { return AnyCodingKey(stringValue: "") }
        if key is VerbatimCodingKey || key.intValue != nil { return key }
        return AnyCodingKey(stringValue: snakeCase(key.stringValue))
    }

    private struct AnyCodingKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
