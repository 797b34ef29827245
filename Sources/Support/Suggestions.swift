import Foundation

/// Names close to a mistyped one (for "did you mean ...?" answers).
public enum Suggestions {
    /// Up to `limit` of `names` within a few edits of `word` (case ignored), nearest first;
    /// a name that starts with `word` counts as near.
    public static func nearest(_ word: String, among names: [String], limit: Int = 3) -> [String] {
        let typed = Array(word.lowercased())
        let scored = names.compactMap { name -> (String, Int)? in
            let candidate = Array(name.lowercased())
            if typed.count >= 2, candidate.starts(with: typed) { return (name, 0) }
            let distance = editDistance(typed, candidate)
            return distance <= max(2, min(typed.count, candidate.count) / 4) ? (name, distance) : nil
        }
        return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
    }

    /// Names beside the missing `path` close to its last part, spelled as `path` is (its folder
    /// part kept), for "did you mean" after a typing mistake.
    public static func siblings(of path: String) -> [String] {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let names = ((try? FileSystem.list(url.deletingLastPathComponent().path)) ?? []).filter { !$0.hasPrefix(".") }
        let folder = path.contains("/") ? ByteText.parent(of: path) + "/" : ""
        return nearest(url.lastPathComponent, among: names).map { (folder == "//" ? "/" : folder) + $0 }
    }

    /// " did you mean A or B?" for `names`, empty when there are none.
    public static func didYouMean(_ names: [String]) -> String {
        names.isEmpty ? "" : "; did you mean \(names.map { shown($0) }.joined(separator: " or "))?"
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var row = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { row[j] = min(row[j], previous2[j - 2] + 1) }
            }
            (previous2, previous) = (previous, row)
        }
        return previous[b.count]
    }
}
