import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// The pictures and the `report.html` page a run leaves in its folder, built from what the run
/// produced (its record, log, metrics and predictions). One self-contained page per run.
public enum RunReports {
    /// `loss_curves.png`: every series of the training log (one per learning rate of a grid).
    public static func lossCurves(_ log: TrainingLog, title: String) throws -> LossCurvePlot {
        let steps = Array(1...max(log.steps, 1)).prefix(log.steps)
        return try LossCurvePlot(series: log.series.indices.map {
            LossCurvePlot.Series(label: log.series.count == 1 ? "loss" : "lr \(log.series[$0])", steps: Array(steps),
                                 values: log.losses(ofSeries: $0))
        }, title: title)
    }

    /// The top of every report: the headline result, the run's duration and data, then what
    /// was skipped. Results follow; `provenanceSection` ends the page.
    public static func headlineSection(_ result: String, record: RunRecord, into page: inout HTMLReport) {
        let seconds = (record.finishedAt ?? Date()).timeIntervalSince(record.startedAt)
        let data = record.data.map { " on \(ByteText.name(of: $0.root))" } ?? ""
        page.headline(result, detail: "run of \(duration(seconds))\(data), finished \(dateText(record.finishedAt ?? Date()))"
                      + (record.resumedFrom.isEmpty ? "" : " (resumed; this process's time)"))
        skippedSection(record, into: &page)
    }

    /// "4.2 s", "3 min 05 s", "1 h 02 min".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return String(format: "%.1f s", seconds) }
        return s < 3600 ? String(format: "%d min %02d s", s / 60, s % 60) : String(format: "%d h %02d min", s / 3600, (s % 3600) / 60)
    }

    private static func dateText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// The end of every report, collapsed: the command line, tool, backbone, data and every option.
    public static func provenanceSection(_ record: RunRecord, into page: inout HTMLReport) {
        page.collapsed("Run, options and provenance") { settingsSection(record, into: &$0) }
    }

    /// The settings: the command line, tool, backbone, data and every option.
    static func settingsSection(_ record: RunRecord, into page: inout HTMLReport) {
        page.heading("Run")
        var pairs: [(String, String)] = [
            ("command", record.command.joined(separator: " ")),
            ("dinoprobe", "\(record.tool.version) (\(record.tool.commit))"),
            ("run id", record.runID),
            ("host", "\(record.host.name): \(record.host.cpu), \(record.host.logicalCPUs) CPUs"),
        ]
        if let b = record.backbone {
            pairs.append(("backbone", "\(b.id) (\(b.variant), fingerprint \(b.fingerprint), \(b.device), \(b.precision), \(b.threads) threads)"))
        }
        if let d = record.data {
            pairs.append(("data", d.root))
            for (split, listing) in d.splits.sorted(by: { $0.key < $1.key }) {
                pairs.append(("\(split) listing", "\(listing.files) files, fingerprint \(listing.fingerprint)"))
            }
        }
        for (key, value) in record.notes.sorted(by: { $0.key < $1.key }) { pairs.append((key, value)) }
        page.keyValues(pairs)
        page.heading("Options (resolved, defaults included)")
        if case let .object(members) = record.options {
            page.keyValues(members.map { ($0.0, describe($0.1)) })
        }
    }

    /// The inputs each split skipped: how many, where they are all listed, the first few with the reason.
    public static func skippedSection(_ record: RunRecord, into page: inout HTMLReport) {
        guard !record.skipped.isEmpty else { return }
        page.heading("Skipped inputs")
        for (split, list) in record.skipped.sorted(by: { $0.key < $1.key }) {
            page.paragraph("\(split): \(list.count) input\(list.count == 1 ? "" : "s") skipped (not used for training or scoring), all listed in \(list.file)\(list.count > list.first.count ? "; the first \(list.first.count):" : ":")")
            page.table(header: ["file", "reason"], rows: list.first.map { line in
                let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                return [parts.first ?? line, parts.count > 1 ? parts[1] : ""]
            })
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "-"
        case let .bool(b): return b ? "yes" : "no"
        case let .number(n): return n
        case let .string(s): return s
        case let .array(values): return values.isEmpty ? "-" : values.map(describe).joined(separator: ", ")
        case let .object(members): return members.map { "\($0.0)=\(describe($0.1))" }.joined(separator: ", ")
        }
    }

    /// A thumbnail of the image at `path` (nil when it cannot be read: the report goes on).
    static func thumbnail(_ path: String, maxSide: Int = 160, maxPixels: Int) -> Data? {
        guard let image = try? ImageDecoder.decode(path: path, maxPixels: maxPixels) else { return nil }
        return try? Thumbnail.png(image, maxSide: maxSide)
    }

    /// Up to `count` correct and `count` wrong predictions, as thumbnails with their classes.
    static func predictionGallery(_ predictions: ClassificationPredictions, count: Int = 8, maxPixels: Int) -> [HTMLReport.GalleryItem] {
        let names = predictions.classNames
        let correct = predictions.rows.filter { $0.correct == true }.prefix(count)
        let wrong = predictions.rows.filter { $0.correct == false }.prefix(count)
        return (Array(correct) + Array(wrong)).compactMap { row in
            guard let png = thumbnail(row.path, maxPixels: maxPixels), let top = row.top.first else { return nil }
            let truth = row.trueLabel.map { "true \(names[$0]), " } ?? ""
            let caption = "\(ByteText.name(of: row.path)): \(truth)predicted \(names[top]) (\(String(format: "%.1f%%", 100 * (row.probabilities.first ?? 0))))"
            return HTMLReport.GalleryItem(png: png, caption: caption, correct: row.correct)
        }
    }

    /// The classification metrics as a per-class table and a summary.
    static func classificationMetrics(_ m: ClassificationMetrics, into page: inout HTMLReport) {
        page.keyValues([("samples", "\(m.count)"), ("top-1", MetricsReport.percent(m.top1)), ("top-5", MetricsReport.percent(m.top5)),
                        ("balanced accuracy", MetricsReport.percent(m.balancedAccuracy)), ("macro F1", MetricsReport.percent(m.macroF1))])
        page.table(header: ["class", "n", "recall", "precision", "F1"], rows: m.classNames.indices.map { c in
            [m.classNames[c], "\(m.support[c])", MetricsReport.percent(m.perClassRecall[c]),
             MetricsReport.percent(m.perClassPrecision[c]), MetricsReport.percent(m.perClassF1[c])]
        })
    }

    /// The segmentation metrics as a per-class table and a summary.
    static func segmentationMetrics(_ r: SegmentationResult, into page: inout HTMLReport) {
        page.keyValues([("mIoU", MetricsReport.percent(r.mIoU)), ("aAcc", MetricsReport.percent(r.aAcc)), ("mAcc", MetricsReport.percent(r.mAcc)),
                        ("mDice", MetricsReport.percent(r.mDice)), ("pixels", "\(r.pixelCount) (\(r.ignoredCount) ignored, label \(r.ignoreIndex))")])
        page.table(header: ["class", "IoU", "Acc (recall)", "Dice", "labelled pixels"], rows: r.classNames.indices.map { c in
            [r.classNames[c], MetricsReport.percent(r.perClassIoU[c]), MetricsReport.percent(r.perClassAccuracy[c]),
             MetricsReport.percent(r.perClassDice[c]), "\(r.areaLabel[c])"]
        })
    }
}
