/// Deterministic ordering of class scores: higher score first, NaN below every number, and ties
/// (equal scores, or two NaNs) broken by the lower class index.
enum ScoreRanking {
    /// Whether score `a` of class `ia` ranks strictly before score `b` of class `ib`.
    @inline(__always)
    static func before(_ a: Float, _ ia: Int, _ b: Float, _ ib: Int) -> Bool {
        let aNaN = a.isNaN, bNaN = b.isNaN
        if aNaN != bNaN { return bNaN }
        if !aNaN && a != b { return a > b }
        return ia < ib
    }

    /// Index of the best score in `row` (lowest index among ties); nil for an empty row.
    static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int? {
        guard !row.isEmpty else { return nil }
        var best = 0
        for j in 1..<row.count where before(row[j], j, row[best], best) { best = j }
        return best
    }

    /// 0-based rank of class `c` in `row`: how many classes rank before it.
    static func rank(of c: Int, in row: UnsafeBufferPointer<Float>) -> Int {
        var r = 0
        let s = row[c]
        for j in 0..<row.count where j != c && before(row[j], j, s, c) { r += 1 }
        return r
    }
}
