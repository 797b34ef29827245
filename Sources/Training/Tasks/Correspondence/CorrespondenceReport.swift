import Evaluation
import Foundation
import Images
import Plots
import Support

/// What a correspondence run leaves in its folder: `metrics.json`, `pairs.csv`, `keypoints.csv`,
/// `categories.csv` and `report.html` (pairs drawn with their matches).
public enum CorrespondenceReport {
    /// Writes the files into `folder` and returns their names. `pairs` are the pairs the run was
    /// given (the results name theirs); `shown` pairs, spread over the results, are drawn.
    public static func write(_ outcome: CorrespondenceRun.Outcome, pairs: [KeypointPair], settings: CorrespondenceSettings,
                             record: RunRecord, to folder: String, shown: Int = 12, maxPixels: Int) throws -> [String] {
        var m = outcome.metrics
        (m.settings, m.skippedPairs) = (settings, outcome.skipped.count)
        try m.writeJSON(to: folder + "/metrics.json")
        try AtomicFile.write(Data(m.categoriesCSV().data), to: folder + "/categories.csv")
        let byName = Dictionary(pairs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let (pairRows, keypointRows) = tables(outcome.results, byName)
        try AtomicFile.write(Data(pairRows.data), to: folder + "/pairs.csv")
        try AtomicFile.write(Data(keypointRows.data), to: folder + "/keypoints.csv")
        var page = HTMLReport(title: "Keypoint correspondence")
        RunReports.settingsSection(record, into: &page)
        page.heading("PCK")
        page.keyValues([("headline (\(m.headline))", MetricsReport.percent(m.headlineValue)),
                        ("pairs scored", "\(m.overall.pairs) (\(outcome.skipped.count) skipped)"), ("keypoints", "\(m.overall.points)"),
                        ("images loaded (backbone or disk cache)", "\(outcome.images)")])
        page.table(header: ["category", "pairs", "points"] + CorrespondenceResult.alphas.flatMap { ["point@\($0)", "image@\($0)"] },
                   rows: (m.categories.sorted { $0.key < $1.key } + [("all (pooled)", m.overall)]).map { name, s in
                       [name, "\(s.pairs)", "\(s.points)"] + CorrespondenceResult.alphas.flatMap {
                           [MetricsReport.percent(s.perPoint["\($0)"] ?? 0), MetricsReport.percent(s.perImage["\($0)"] ?? 0)]
                       }
                   })
        page.heading("Pairs")
        page.paragraph("Lines join each source keypoint to its prediction: green within 0.1 x the target box's longer side, red outside; blue dots are the true target keypoints.")
        let step = max(1, outcome.results.count / max(shown, 1))
        for result in stride(from: 0, to: outcome.results.count, by: step).prefix(shown).map({ outcome.results[$0] }) {
            guard let pair = byName[result.name], let png = try? picture(pair, result, maxPixels: maxPixels) else { continue }
            page.image(png: png, caption: "\(result.name) (\(result.category)): \(result.correct(0.1)) of \(result.errors.count) within 0.1")
        }
        for skipped in outcome.skipped.prefix(50) { page.paragraph("skipped \(skipped.path): \(skipped.reason)") }
        try page.write(to: folder + "/report.html")
        return ["metrics.json", "categories.csv", "pairs.csv", "keypoints.csv", "report.html"]
    }

    static func tables(_ results: [KeypointPairResult], _ pairs: [String: KeypointPair]) -> (CSVWriter, CSVWriter) {
        var perPair = CSVWriter(header: ["pair", "category", "points", "box_side"] + CorrespondenceResult.alphas.map { "pck@\($0)" } + ["mean_error"])
        var perPoint = CSVWriter(header: ["pair", "keypoint", "source_x", "source_y", "target_x", "target_y", "predicted_x", "predicted_y",
                                          "error", "correct@0.1"])
        for r in results {
            let n = Double(r.errors.count)
            perPair.row([.text(r.name), .text(r.category), .int(r.errors.count), .number(r.boxSide)]
                        + CorrespondenceResult.alphas.map { .number(Double(r.correct($0)) / n) } + [.number(r.errors.reduce(0, +) / n)])
            guard let pair = pairs[r.name] else { continue }
            for (i, (s, t)) in zip(pair.sourceKeypoints, pair.targetKeypoints).enumerated() where i < r.errors.count {
                perPoint.row([.text(r.name), .int(i), .number(s.x), .number(s.y), .number(t.x), .number(t.y), .number(r.predictions[i].x),
                              .number(r.predictions[i].y), .number(r.errors[i]), .int(r.errors[i] <= 0.1 * r.boxSide ? 1 : 0)])
            }
        }
        return (perPair, perPoint)
    }

    static func picture(_ pair: KeypointPair, _ result: KeypointPairResult, maxPixels: Int) throws -> Data {
        try KeypointPairPicture(source: ImageDecoder.decode(path: pair.sourceImage, maxPixels: maxPixels),
                                target: ImageDecoder.decode(path: pair.targetImage, maxPixels: maxPixels),
                                sourcePoints: pair.sourceKeypoints, predictions: result.predictions, truths: pair.targetKeypoints,
                                correct: result.errors.map { $0 <= 0.1 * result.boxSide }).pngData()
    }
}
