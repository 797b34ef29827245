import Evaluation
import Foundation
import Images
import Plots
import Support

/// The files a retrieval run writes: metrics.json, ranks.csv, queries.csv and report.html.
public enum RetrievalReport {
    /// One setup's means, in percent (revisitop prints them so).
    public struct SetupMetrics: Codable, Equatable {
        public var mAP: Double?
        public var mP: [String: Double]?
    }

    public struct Metrics: Codable, Equatable {
        public var dataset: String
        public var queries: Int
        public var database: Int
        public var setups: [String: SetupMetrics]

        /// What the command prints: the data set and its sizes, then mAP and mP@k per setup.
        public var summaryLines: [String] {
            func number(_ value: Double?) -> String { value.map { String(format: "%6.2f", $0) } ?? "     -" }
            return ["\(dataset): \(queries) queries, \(database) database images"] + RetrievalProtocol.allCases.map { setup in
                let m = setups[setup.rawValue]
                return "  \(setup.rawValue)  mAP \(number(m?.mAP))  mP@1,5,10 \(RetrievalMAP.kappas.map { number(m?.mP?["\($0)"]) }.joined(separator: " "))"
            }
        }
    }

    public static func metrics(_ r: RetrievalResult) -> Metrics {
        var setups: [String: SetupMetrics] = [:]
        for (setup, score) in r.scores {
            let mP = score.mPrecision.map { Dictionary(uniqueKeysWithValues: zip(RetrievalMAP.kappas.map { "\($0)" }, $0.map { 100 * $0 })) }
            setups[setup.rawValue] = SetupMetrics(mAP: score.mAP.map { 100 * $0 }, mP: mP)
        }
        return Metrics(dataset: r.groundTruth.name, queries: r.evaluated.count, database: r.databaseNames.count - r.skippedDatabase.count,
                       setups: setups)
    }

    /// The label of database image `index` for query `q` under `setup`.
    static func label(_ index: Int, query: RetrievalQuery, _ setup: RetrievalProtocol) -> String {
        let sets = setup.sets(query)
        return sets.ok.contains(index) ? "positive" : sets.junk.contains(index) ? "junk" : "negative"
    }

    /// Writes the files into `folder`; returns their names.
    public static func write(_ r: RetrievalResult, to folder: String, topK: Int = 100, shown: Int = 10) throws -> [String] {
        try MetricsReport.writeJSON(metrics(r), to: folder + "/metrics.json")
        var ranks = CSVWriter(header: ["query", "rank", "image", "score"] + RetrievalProtocol.allCases.map { "label_\($0.rawValue)" })
        var perQuery = CSVWriter(header: ["query"] + RetrievalProtocol.allCases.flatMap { s in ["AP_\(s.rawValue)"] + RetrievalMAP.kappas.map { "P@\($0)_\(s.rawValue)" } })
        for (i, q) in r.evaluated.enumerated() {
            let query = r.groundTruth.queries[q]
            for (rank, hit) in r.rankings[i].top.prefix(topK).enumerated() {
                ranks.row([.text(query.name), .int(rank + 1), .text(r.databaseNames[hit.index]), .float(hit.score)]
                          + RetrievalProtocol.allCases.map { .text(label(hit.index, query: query, $0)) })
            }
            perQuery.row([.text(query.name)] + RetrievalProtocol.allCases.flatMap { s -> [CSVCell] in
                let score = r.scores[s]
                return [score?.aps[i].map(CSVCell.number) ?? .empty] + (score?.precisions[i]?.map(CSVCell.number) ?? RetrievalMAP.kappas.map { _ in .empty })
            })
        }
        try AtomicFile.write(Data(ranks.data), to: folder + "/ranks.csv")
        try AtomicFile.write(Data(perQuery.data), to: folder + "/queries.csv")
        try page(r, shown: shown).write(to: folder + "/report.html")
        return ["metrics.json", "ranks.csv", "queries.csv", "report.html"]
    }

    /// Each query's crop beside its first `shown` results, framed green (positive), red
    /// (negative) or grey (junk) under the Medium setup.
    static func page(_ r: RetrievalResult, shown: Int) throws -> HTMLReport {
        var page = HTMLReport(title: "Retrieval: \(r.groundTruth.name)")
        let m = metrics(r)
        page.table(header: ["setup", "mAP", "mP@1", "mP@5", "mP@10"], rows: RetrievalProtocol.allCases.map { s in
            let v = m.setups[s.rawValue]
            return [s.rawValue, v?.mAP.map { String(format: "%.2f", $0) } ?? "-"] + RetrievalMAP.kappas.map { k in v?.mP?["\(k)"].map { String(format: "%.2f", $0) } ?? "-" }
        })
        page.paragraph("\(m.queries) queries against \(m.database) database images. Frames: green positive, red negative, grey junk (Medium setup).")
        for (i, q) in r.evaluated.enumerated() {
            let query = r.groundTruth.queries[q]
            page.heading("\(query.name)  AP(M) \(r.scores[.medium]?.aps[i].map { String(format: "%.2f", 100 * $0) } ?? "-")")
            var items = [HTMLReport.GalleryItem(png: try thumbnail(r.cropPaths[i]), caption: "query")]
            for (rank, hit) in r.rankings[i].top.prefix(shown).enumerated() {
                let verdict = label(hit.index, query: query, .medium)
                items.append(HTMLReport.GalleryItem(png: try thumbnail(r.databasePaths[hit.index]),
                                                    caption: String(format: "#%d %@ %.3f", rank + 1, r.databaseNames[hit.index], hit.score),
                                                    correct: verdict == "junk" ? nil : verdict == "positive"))
            }
            page.gallery(items)
        }
        return page
    }

    static func thumbnail(_ path: String) throws -> Data {
        try Thumbnail.png(ImageDecoder.decode(path: path), maxSide: 128)
    }
}
