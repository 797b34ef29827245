import Evaluation
import Foundation
import Images

/// A confusion matrix drawn as a heat map: rows are true classes, columns predicted classes,
/// each cell coloured white-to-blue by its share of the row (so the diagonal shows per-class
/// recall), with its count written in when it fits and is not zero.
///
/// Colour of a cell with count c in a row of n > 0 samples, for share t = c / n: five stops
/// (247,251,255), (198,219,239), (107,174,214), (33,113,181), (8,48,107) at t = 0, 1/4, 1/2,
/// 3/4, 1 (matplotlib's "Blues"); between two stops each channel is interpolated linearly and
/// rounded to the nearest integer, halves up. Rows without samples are grey (215,215,215).
/// A colour bar shows the ramp from 0% (bottom) to 100% (top).
///
/// Class names (anti-aliased DejaVu Sans) label the rows and, turned to read bottom to top, the
/// columns; see `maxNameLength` for long or unusual names. Cells shrink as the class count
/// grows; past 120 classes the names are left out.
public struct ConfusionPlot: Picture, Sendable {
    public let confusion: [[Int]]
    public let classNames: [String]
    /// Heads the picture (e.g. "Imagenette val: top-1 91.2%").
    public var title: String
    /// Longest class name shown; longer ones keep their start and end ("a very lo..name 7").
    /// Accented and other non-ASCII names show as they are; control characters and characters
    /// the font lacks (emoji, CJK) show as '?'.
    public var maxNameLength = 20

    /// Checks that `confusion` is K x K with non-negative counts (each row's sum an `Int`) for
    /// K = `classNames.count` >= 1.
    public init(confusion: [[Int]], classNames: [String], title: String = "Confusion matrix") throws {
        let k = classNames.count
        guard k > 0 else { throw MetricsError.empty("confusion plot without classes") }
        guard confusion.count == k else {
            throw MetricsError.shapeMismatch("confusion matrix has \(confusion.count) rows for \(k) class names")
        }
        for (t, row) in confusion.enumerated() {
            guard row.count == k else {
                throw MetricsError.shapeMismatch("confusion row \(t) has \(row.count) columns, expected \(k)")
            }
            if let bad = row.firstIndex(where: { $0 < 0 }) {
                throw MetricsError.badArgument("confusion count at row \(t), column \(bad) is negative (\(row[bad]))")
            }
            var sum = 0
            for count in row {
                let (next, overflow) = sum.addingReportingOverflow(count)
                guard !overflow else { throw MetricsError.badArgument("confusion row \(t) sums to more than \(Int.max)") }
                sum = next
            }
        }
        (self.confusion, self.classNames, self.title) = (confusion, classNames, title)
    }

    /// The picture.
    public func render() throws -> RGBImage {
        let layout = try ConfusionPlotLayout(plot: self)
        let canvas = try Canvas(width: layout.width, height: layout.height)
        draw(on: canvas, layout)
        return try canvas.image()
    }

    /// `name` as the plot shows it (see `maxNameLength`).
    func label(_ name: String) throws -> String {
        PlotLabel.shortened(name, maxLength: maxNameLength, font: try Canvas.measuring())
    }
}

extension ClassificationMetrics {
    /// Writes `metrics.json`, `confusion.csv` and `confusion.png` into `directory` (created if
    /// needed); `title` heads the plot.
    public func writeReports(to directory: String, title: String = "Confusion matrix") throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dir = URL(fileURLWithPath: directory)
        try writeJSON(to: dir.appendingPathComponent("metrics.json").path)
        try writeConfusionCSV(to: dir.appendingPathComponent("confusion.csv").path)
        try ConfusionPlot(confusion: confusion, classNames: classNames, title: title)
            .write(to: dir.appendingPathComponent("confusion.png").path)
    }
}
