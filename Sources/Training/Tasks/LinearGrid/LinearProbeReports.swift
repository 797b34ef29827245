import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

extension LinearProbeOutcome {
    /// What `grid.json` records about a run besides the head's provenance.
    struct GridRecord: Encodable {
        let settings: LinearProbeSettings
        let grid: GridResult
    }

    /// Saves the run's results in `folder`: head.safetensors, metrics.json, confusion.csv,
    /// confusion.png (titled `dataName`, the split and the top-1), grid.json, train_log.csv,
    /// loss_curves.png, predictions.csv (val) and, with the run's `record`, report.html (each
    /// written whole or not at all). Returns the file names.
    @discardableResult
    public func write(to folder: String, dataName: String, record: RunRecord?, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> [String] {
        let title = "\(dataName) val: top-1 \(MetricsReport.percent(valMetrics.top1)) (\(recipe.tokens.rawValue), lr \(grid.learningRates[grid.bestIndex]))"
        _ = try writeProbeResults(head: head, metrics: valMetrics, record: GridRecord(settings: settings, grid: grid), summaryFile: "grid.json",
                                  recipe: recipe, samples: (trainSamples, selectionSamples, valSamples), to: folder, title: title)
        try AtomicFile.write(Data(log.csv().utf8), to: folder + "/train_log.csv")
        let losses = try RunReports.lossCurves(log, title: "Training loss, \(log.series.count) learning rates (base)")
        try losses.write(to: folder + "/loss_curves.png")
        try valPredictions.write(to: folder + "/predictions.csv")
        var files = ["head.safetensors", "metrics.json", "confusion.csv", "confusion.png", "grid.json", "train_log.csv",
                     "loss_curves.png", "predictions.csv"]
        if let record {
            try report(record: record, confusion: Data(contentsOf: URL(fileURLWithPath: folder + "/confusion.png")), losses: losses.pngData(),
                       maxPixels: maxPixels).write(to: folder + "/report.html")
            files.append("report.html")
        }
        return files
    }

    /// The page, top down: the val top-1 and the run's duration, the chosen head's metrics, the
    /// confusion matrix, the loss curves, sample predictions (correct and wrong) with thumbnails,
    /// the grid, and the run's provenance (collapsed).
    func report(record: RunRecord, confusion: Data, losses: Data, maxPixels: Int) throws -> HTMLReport {
        var page = HTMLReport(title: "dinoprobe train-linear: \(record.data?.root ?? "features")")
        RunReports.headlineSection("val top-1 \(MetricsReport.percent(valMetrics.top1)) (lr \(grid.learningRates[grid.bestIndex]))",
                                   record: record, into: &page)
        page.heading("Val metrics of the chosen head")
        RunReports.classificationMetrics(valMetrics, into: &page)
        page.image(png: confusion, caption: "Confusion matrix (rows: true class, columns: predicted)")
        page.heading("Training")
        page.image(png: losses, caption: "Loss per step of every head of the grid")
        page.heading("Sample predictions on val")
        let gallery = RunReports.predictionGallery(valPredictions, maxPixels: maxPixels)
        if gallery.isEmpty { page.paragraph("No val image could be read for thumbnails.") } else { page.gallery(gallery) }
        page.heading("Learning-rate grid (chosen on \(grid.selectedOn))")
        page.paragraph("\(trainSamples) training, \(selectionSamples) selection and \(valSamples) val samples; \(grid.steps) steps of batch \(settings.batchSize), \(settings.optimizer.rawValue); features \(recipe.tokens.rawValue), \(recipe.layers.map { "blocks \($0.map(String.init).joined(separator: ","))" } ?? "last \(recipe.blocks) block(s)").")
        page.table(header: ["lr (base)", "lr (scaled)", "\(grid.selectedOn) top-1", "\(grid.selectedOn) loss", "val top-1", "diverged at step"],
                   rows: grid.learningRates.indices.map { i in
                       ["\(grid.learningRates[i])", "\(grid.scaledLearningRates[i])", MetricsReport.percent(Double(grid.selectionAccuracy[i])),
                        String(format: "%.4f", grid.selectionLoss[i]), grid.reportedAccuracy.map { MetricsReport.percent(Double($0[i])) } ?? "-",
                        grid.divergedAtStep[i].map(String.init) ?? "-"]
                   }, highlightRow: grid.bestIndex)
        RunReports.provenanceSection(record, into: &page)
        return page
    }
}
