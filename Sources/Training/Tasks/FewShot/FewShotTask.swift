import Evaluation
import Heads
import Plots

/// Few-shot evaluation (`FewShot`): k images per class in seeded draws, each scored with the
/// linear grid, logistic regression and k-NN; mean and std per k.
public enum FewShotTask {
    public static let description = TaskDescription(
        name: "fewshot", kind: .composite,
        summary: "k images per class, several seeded draws, scored by the linear grid, logistic regression and k-NN; val top-1 mean and std")

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let shots = 0.0001...100_000
        public static let tries = 1...1000
        public static let iterations = 1...10_000_000
        public static let batchSize = 1...1_000_000
    }

    /// Writes fewshot.json and report.html (the run's settings, then a row per method and shot
    /// count) into `folder`; returns the file names.
    public static func write(_ scores: [FewShot.Score], record: RunRecord, dataName: String, tries: Int, to folder: String) throws -> [String] {
        try MetricsReport.writeJSON(scores, to: folder + "/fewshot.json")
        var page = HTMLReport(title: "dinoprobe fewshot: \(dataName)")
        let top = scores.filter { $0.method == "linear" }.max { $0.shots < $1.shots }
        RunReports.headlineSection(top.map { "linear at \(String(format: "%g", $0.shots)) shots: val top-1 \(MetricsReport.percent($0.mean))" } ?? "few-shot",
                                   record: record, into: &page)
        page.heading("Val top-1 over \(tries) draws per shot count")
        page.table(header: ["method", "shots", "tries", "mean", "std", "each try"], rows: scores.map { s in
            [s.method, String(format: "%g", s.shots), "\(s.top1.count)", MetricsReport.percent(s.mean), MetricsReport.percent(s.std),
             s.top1.map { MetricsReport.percent($0) }.joined(separator: " ")]
        })
        RunReports.provenanceSection(record, into: &page)
        try page.write(to: folder + "/report.html")
        return ["fewshot.json", "report.html"]
    }
}
