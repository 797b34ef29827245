import Foundation
import Support

/// Per-input predictions of a classifier (`predictions.csv`): each input's path, its true class
/// when known, and its most probable classes with their probabilities.
public struct ClassificationPredictions: Sendable {
    public struct Row: Sendable, Equatable {
        public var path: String
        public var trueLabel: Int?
        /// Class indices, most probable first (ties: the lower index first).
        public var top: [Int]
        public var probabilities: [Float]

        /// Whether the most probable class is the true one (nil when the truth is unknown).
        public var correct: Bool? { trueLabel.map { top.first == $0 } }
    }

    public let classNames: [String]
    public let rows: [Row]

    /// From `probabilities` [paths.count, classNames.count] (each row a distribution), keeping
    /// the `top` most probable classes per input. `labels`, when given, has one per path.
    public init(paths: [String], probabilities: [Float], labels: [Int]?, classNames: [String], top: Int = 5) throws {
        let k = classNames.count
        guard k > 0, probabilities.count == paths.count * k else {
            throw MetricsError.shapeMismatch("\(probabilities.count) probabilities for \(paths.count) inputs x \(k) classes")
        }
        // NaN probabilities are never printed or saved: a non-finite row names its input.
        if let bad = probabilities.firstIndex(where: { !$0.isFinite }) {
            throw MetricsError.nonFinite(what: "the probabilities of \(paths[bad / k])", index: bad % k)
        }
        if let labels {
            guard labels.count == paths.count else { throw MetricsError.shapeMismatch("\(labels.count) labels for \(paths.count) inputs") }
            try ClassificationMetrics.checkRange(labels, what: "label", classCount: k)
        }
        let keep = min(max(top, 1), k)
        rows = paths.indices.map { i in
            let p = probabilities[(i * k)..<((i + 1) * k)]
            let order = Array(p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }.prefix(keep))
            return Row(path: paths[i], trueLabel: labels?[i], top: order.map { $0 - i * k }, probabilities: order.map { p[$0] })
        }
        self.classNames = classNames
    }

    /// CSV, one row per input: `path,true_label,correct,pred_1,prob_1,...` (the true label and
    /// `correct` empty when unknown), written by `CSVWriter`.
    public func csv() -> String {
        let keep = rows.first?.top.count ?? 0
        var header = ["path", "true_label", "correct"]
        for i in 1...max(keep, 1) where keep > 0 { header += ["pred_\(i)", "prob_\(i)"] }
        var csv = CSVWriter(header: header)
        for row in rows {
            var cells: [CSVCell] = [.text(row.path), row.trueLabel.map { .text(classNames[$0]) } ?? .empty,
                                    row.correct.map { .text($0 ? "true" : "false") } ?? .empty]
            for (c, p) in zip(row.top, row.probabilities) { cells += [.text(classNames[c]), .float(p)] }
            csv.row(cells)
        }
        return csv.text
    }

    /// Writes `csv()` to `path` (whole or not at all).
    public func write(to path: String) throws {
        try AtomicFile.write(Data(csv().utf8), to: path)
    }
}
