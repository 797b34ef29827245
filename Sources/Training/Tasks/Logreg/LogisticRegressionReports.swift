import Evaluation
import Foundation
import Heads
import Images
import Plots

extension LogisticRegressionOutcome {
    /// What `path.json` records about a run (with the head's provenance beside it).
    struct Record: Encodable {
        let protocolName = "logreg"
        let settings: LogisticRegressionSettings
        let path: LogisticRegressionPath
        let chosenC: Double
        let refit: LogisticRegressionPathPoint?

        enum CodingKeys: String, CodingKey {
            case protocolName = "protocol", settings, path, chosenC, refit
        }
    }

    /// Saves the run's results in `folder`: head.safetensors, metrics.json, confusion.csv,
    /// confusion.png and path.json (the C path, the chosen C and the refit). Returns the file names.
    @discardableResult
    public func write(to folder: String, title: String) throws -> [String] {
        try writeProbeResults(head: head, metrics: valMetrics, record: Record(settings: settings, path: path, chosenC: path.bestC, refit: refit),
                              summaryFile: "path.json", recipe: recipe, samples: (trainSamples, selectionSamples, valSamples),
                              to: folder, title: title)
    }
}

extension LogisticRegressionOutcome {
    /// report.html: settings, the C path (the chosen C highlighted), the chosen model's metrics,
    /// the confusion matrix and sample predictions with thumbnails.
    public func writeReport(to folder: String, record: RunRecord, predictions: ClassificationPredictions,
                            maxPixels: Int = ImageDecoder.defaultMaxPixels) throws {
        var page = HTMLReport(title: "dinoprobe train-logreg: \(record.data?.root ?? "features")")
        RunReports.headlineSection("val top-1 \(MetricsReport.percent(valMetrics.top1)) (C = \(String(format: "%.4g", path.bestC)))",
                                   record: record, into: &page)
        page.heading("Val metrics at C = \(String(format: "%.4g", path.bestC))")
        RunReports.classificationMetrics(valMetrics, into: &page)
        page.image(png: try Data(contentsOf: URL(fileURLWithPath: folder + "/confusion.png")), caption: "Confusion matrix (rows: true class, columns: predicted)")
        page.heading("Sample predictions on val")
        let gallery = RunReports.predictionGallery(predictions, maxPixels: maxPixels)
        if gallery.isEmpty { page.paragraph("No val image could be read for thumbnails.") } else { page.gallery(gallery) }
        page.heading("C path (chosen on \(path.selectedOn))")
        page.paragraph("\(trainSamples) training, \(selectionSamples) selection and \(valSamples) val samples; L-BFGS in float64, features \(recipe.tokens.rawValue).")
        page.table(header: ["C", "\(path.selectedOn) top-1", "\(path.selectedOn) loss", "objective", "iterations", "stop"],
                   rows: path.points.map { p in
                       [String(format: "%.3g", p.C), MetricsReport.percent(p.selectionAccuracy), String(format: "%.4f", p.selectionLoss),
                        String(format: "%.4g", p.objective), "\(p.iterations)", p.stop.rawValue]
                   }, highlightRow: path.bestIndex)
        RunReports.provenanceSection(record, into: &page)
        try page.write(to: folder + "/report.html")
    }
}

extension LogisticRegressionOutcome {
    /// Everything a train-logreg run leaves in `folder`: `write(to:title:)`'s files, the chosen
    /// model's predictions.csv on `val` and report.html. Returns the file names.
    public func writeRun(to folder: String, val: FeatureSplit, record: RunRecord, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> [String] {
        let (tokens, blocks) = (recipe.tokens, recipe.blocks)
        let files = try write(to: folder, title: "Logistic regression, val (\(tokens.rawValue), \(blocks) block\(blocks == 1 ? "" : "s"))")
        let rows = try val.labelled(tokens, blocks: blocks)
        let predictions = try ClassificationPredictions(paths: val.paths, probabilities: head.probabilities(features: rows.values, count: rows.count),
                                                        labels: rows.labels, classNames: val.classNames)
        try predictions.write(to: folder + "/predictions.csv")
        try writeReport(to: folder, record: record, predictions: predictions, maxPixels: maxPixels)
        return files + ["predictions.csv", "report.html"]
    }
}
