import Evaluation
import Foundation
import Heads
import Plots

/// Writes what every probe run leaves in its folder: head.safetensors, the val reports
/// (metrics.json, confusion.csv, confusion.png) and `summary` as JSON in `summaryFile`, each
/// whole or not at all. Returns the file names.
func writeProbeResults<Summary: Encodable>(head: LinearClassifier, metrics: ClassificationMetrics, summary: Summary,
                                           summaryFile: String, to folder: String, title: String) throws -> [String] {
    try head.save(to: folder + "/head.safetensors")
    try metrics.writeReports(to: folder, title: title)
    try MetricsReport.writeJSON(summary, to: folder + "/" + summaryFile)
    return ["head.safetensors", "metrics.json", "confusion.csv", "confusion.png", summaryFile]
}
