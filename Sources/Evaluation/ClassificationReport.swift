import Foundation
import Support

extension ClassificationMetrics {
    /// The confusion matrix as CSV: a header row (`true\predicted`, then the class names), then
    /// one row per true class starting with its name (written by `CSVWriter`: quoted when
    /// needed, neutralised against formulas).
    public func confusionCSV() -> String {
        var csv = CSVWriter(header: ["true\\predicted"] + classNames)
        for (t, row) in confusion.enumerated() { csv.row([.text(classNames[t])] + row.map(CSVCell.int)) }
        return csv.text
    }

    /// Writes `confusionCSV()` to `path`.
    public func writeConfusionCSV(to path: String) throws {
        try AtomicFile.write(Data(confusionCSV().utf8), to: path)
    }

    /// A terminal table: per class its number of true samples, recall, precision and
    /// F1, then the summary lines. Names longer than `maxNameWidth` are cut.
    public func table(maxNameWidth: Int = 28) -> String {
        let w = MetricsReport.nameWidth(classNames, minimum: 5, maximum: max(5, maxNameWidth))
        func row(_ cells: [String]) -> String {
            MetricsReport.fit(cells[0], w) + cells.dropFirst().map { MetricsReport.fit($0, 11, right: true) }.joined()
        }
        var lines = [row(["class", "n", "recall", "precision", "F1"])]
        lines.append(String(repeating: "-", count: w + 44))
        for c in classNames.indices {
            lines.append(row([classNames[c], String(support[c]), MetricsReport.percent(perClassRecall[c]),
                              MetricsReport.percent(perClassPrecision[c]), MetricsReport.percent(perClassF1[c])]))
        }
        lines.append(String(repeating: "-", count: w + 44))
        lines.append("samples            \(count)")
        lines.append("top-1              \(MetricsReport.percent(top1))")
        lines.append("top-5              \(top5 == nil ? "- (fewer than 5 classes)" : MetricsReport.percent(top5))")
        lines.append("balanced accuracy  \(MetricsReport.percent(balancedAccuracy))")
        lines.append("macro F1           \(MetricsReport.percent(macroF1))")
        return lines.joined(separator: "\n") + "\n"
    }
}
