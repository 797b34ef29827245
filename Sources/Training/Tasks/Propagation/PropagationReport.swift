import Evaluation
import Foundation
import Plots
import Support

/// What `propagate` writes besides the PNGs: metrics.json, per_video.csv, per_object.csv, report.html.
public struct PropagationReport: Sendable {
    public var record: RunRecord
    public var settings: PropagationSettings
    public var videos: [PropagatedVideo]
    public var skipped: [SkippedInput]

    public init(record: RunRecord, settings: PropagationSettings, videos: [PropagatedVideo], skipped: [SkippedInput]) {
        (self.record, self.settings, self.videos, self.skipped) = (record, settings, videos, skipped)
    }

    /// The global figures over every scored object; nil when no video was scored.
    public var summary: VideoSegmentationSummary? { VideoSegmentationSummary(videos.flatMap(\.scores)) }

    /// One video's means over its objects (J, F, J&F); nil when it was not scored.
    public static func means(_ video: PropagatedVideo) -> (j: Double, f: Double, jf: Double)? {
        guard let s = VideoSegmentationSummary(video.scores) else { return nil }
        return (s.jMean, s.fMean, s.jfMean)
    }

    /// What the command prints: the global table, then one line per video.
    public var summaryLines: [String] {
        (summary.map { [$0.table(maxNameWidth: 0)] } ?? []) + videos.map { v in
            "\(v.name): \(v.frames) frames, \(v.scores.count) objects scored\(Self.means(v).map { String(format: ", J&F-Mean %.3f", $0.jf) } ?? "")"
        }
    }

    struct Metrics: Encodable {
        struct Video: Encodable {
            var name: String, frames: Int, objects: Int, grid: [Int]
            var jMean: Double?, fMean: Double?, jfMean: Double?
            enum CodingKeys: String, CodingKey { case name, frames, objects, grid, jMean = "j_mean", fMean = "f_mean", jfMean = "jf_mean" }
        }
        var global: VideoSegmentationSummary?
        var settings: PropagationSettings
        var videos: [Video]
        var skipped: [SkippedInput]
    }

    /// The files `write` makes.
    public static let files = ["metrics.json", "per_video.csv", "per_object.csv", "report.html"]

    /// Writes the files into `folder` and returns their names.
    public func write(to folder: String) throws -> [String] {
        let rows = videos.map { v in
            let m = Self.means(v)
            return Metrics.Video(name: v.name, frames: v.frames, objects: v.scores.count, grid: [v.gridHeight, v.gridWidth],
                                 jMean: m?.j, fMean: m?.f, jfMean: m?.jf)
        }
        try MetricsReport.writeJSON(Metrics(global: summary, settings: settings, videos: rows, skipped: skipped), to: folder + "/metrics.json")
        var perVideo = CSVWriter(header: ["video", "frames", "objects", "J-Mean", "F-Mean", "J&F-Mean"])
        for r in rows {
            perVideo.row([.text(r.name), .int(r.frames), .int(r.objects)] + [r.jMean, r.fMean, r.jfMean].map { $0.map(CSVCell.number) ?? .empty })
        }
        var perObject = CSVWriter(header: ["video", "object", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"])
        for s in videos.flatMap(\.scores) {
            perObject.row([.text(s.video), .int(s.object)] + [s.j.mean, s.j.recall, s.j.decay, s.f.mean, s.f.recall, s.f.decay].map(CSVCell.number))
        }
        try AtomicFile.write(Data(perVideo.data), to: folder + "/per_video.csv")
        try AtomicFile.write(Data(perObject.data), to: folder + "/per_object.csv")
        try page().write(to: folder + "/report.html")
        return Self.files
    }

    /// The page: settings, the global figures, a table per video and each video's strip of frames.
    func page() -> HTMLReport {
        var page = HTMLReport(title: "dinoprobe propagate: \(record.data?.root ?? "")")
        RunReports.settingsSection(record, into: &page)
        page.heading("Protocol")
        page.paragraph("DINO's label propagation: first frame and \(settings.context) previous frames, top \(settings.topk) neighbours "
                       + "within \(settings.radius) patches, temperature \(settings.temperature), frames scaled to \(settings.scaleSize) px. "
                       + "J and F as davis2017-evaluation (frames 1 to n-2).")
        if let s = summary {
            page.heading("Global results (\(s.objects) objects)")
            page.table(header: ["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"],
                       rows: [[s.jfMean, s.jMean, s.jRecall, s.jDecay, s.fMean, s.fRecall, s.fDecay].map { String(format: "%.3f", $0) }])
        } else {
            page.paragraph("No video has annotations for every frame: the masks were propagated but not scored.")
        }
        page.heading("Per video")
        page.table(header: ["video", "frames", "objects", "J-Mean", "F-Mean", "J&F-Mean"], rows: videos.map { v in
            let m = Self.means(v)
            return [v.name, "\(v.frames)", "\(v.scores.count)"] + [m?.j, m?.f, m?.jf].map { $0.map { String(format: "%.3f", $0) } ?? "-" }
        })
        if !skipped.isEmpty {
            page.heading("Skipped")
            page.table(header: ["video", "reason"], rows: skipped.map { [$0.path, $0.reason] })
        }
        for video in videos where !video.strip.isEmpty {
            page.heading("\(video.name): propagated masks")
            page.gallery(video.strip)
        }
        return page
    }
}

extension VideoSegmentationSummary: MetricResult {
    /// The global table as davis2017-evaluation prints it.
    public func table(maxNameWidth: Int) -> String {
        let names = ["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"]
        let values = [jfMean, jMean, jRecall, jDecay, fMean, fRecall, fDecay].map { String(format: "%.3f", $0) }
        return zip(names, values).map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) + " " + $1 }.joined(separator: "\n")
    }
}
