import Evaluation
import Foundation

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
