import Foundation
@testable import Evaluation
import XCTest

/// metrics.json, confusion.csv, the terminal tables and the confusion plot PNG.
final class ReportTests: XCTestCase {
    var temp: URL!

    override func setUpWithError() throws { temp = try MetricsFixtures.temporaryDirectory("report") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    let names = ["a,b", "say \"hi\"", "plain", "d", "e"]

    func metrics() throws -> ClassificationMetrics {
        try ClassificationMetrics(predictions: [0, 0, 1, 1, 3, 2, 0, 2], labels: [0, 0, 0, 1, 1, 2, 2, 2], classNames: names)
    }

    func testJSONParsesBackWithSortedKeysAndNulls() throws {
        let m = try metrics()
        let path = temp.appendingPathComponent("metrics.json").path
        try m.writeJSON(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["classNames"] as? [String], names)
        XCTAssertEqual(object["count"] as? Int, 8)
        XCTAssertTrue(object["top5"] is NSNull) // present, null
        XCTAssertEqual(object["top1"] as? Double, 0.625)
        let recall = try XCTUnwrap(object["perClassAccuracy"] as? [Any])
        XCTAssertTrue(recall[3] is NSNull)
        XCTAssertEqual(object["confusion"] as? [[Int]], m.confusion)
        let text = String(decoding: data, as: UTF8.self)
        let keys = ["balancedAccuracy", "classNames", "confusion", "count", "macroF1", "perClassAccuracy"]
        let positions = keys.map { text.range(of: "\"\($0)\"")!.lowerBound }
        XCTAssertEqual(positions, positions.sorted(), "keys are not sorted")
        XCTAssertEqual(try JSONDecoder().decode(ClassificationMetrics.self, from: data), m)
    }

    func testConfusionCSVParsesBack() throws {
        let m = try metrics()
        let path = temp.appendingPathComponent("confusion.csv").path
        try m.writeConfusionCSV(to: path)
        let rows = parseCSV(try String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(rows.count, 6)
        XCTAssertEqual(rows[0], ["true\\predicted"] + names)
        for t in 0..<5 {
            XCTAssertEqual(rows[t + 1][0], names[t])
            XCTAssertEqual(rows[t + 1].dropFirst().map { Int($0)! }, m.confusion[t])
        }
    }

    func testTablesNameClassesAndSummaries() throws {
        let table = try metrics().table()
        for needle in ["a,b", "plain", "top-1              62.50%", "balanced accuracy", "macro F1", "- (fewer than 5 classes)"] {
            XCTAssertTrue(table.contains(needle), "missing \(needle) in\n\(table)")
        }
        var seg = try SegmentationMetrics(numClasses: 3, classNames: ["sky", "road", "a rather long class name that goes on"])
        try seg.add(prediction: [UInt8]([0, 1, 1, 2]), label: [0, 1, 255, 1])
        let r = seg.result()
        let segTable = r.table(maxNameWidth: 16)
        XCTAssertTrue(segTable.contains("mIoU"))
        XCTAssertTrue(segTable.contains("a rather long .."), segTable)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
        XCTAssertEqual(json["classNames"] as? [String], r.classNames)
        XCTAssertTrue((json["perClassAccuracy"] as? [Any])?[2] is NSNull)
        XCTAssertEqual(try JSONDecoder().decode(SegmentationResult.self, from: r.jsonData()), r)
    }

    func testConfusionPlotIsAPNGOfTheExpectedSize() throws {
        let plot = try ConfusionPlot(confusion: MetricsFixtures.imagenetteConfusion(), classNames: MetricsFixtures.imagenette,
                                     title: "Imagenette val")
        let layout = ConfusionPlotLayout(plot: plot)
        XCTAssertEqual(layout.cell, 40)
        let path = temp.appendingPathComponent("confusion.png").path
        try plot.write(to: path)
        let (w, h) = try pngSize(path)
        XCTAssertEqual(w, layout.width * 2)
        XCTAssertEqual(h, layout.height * 2)

        // Two classes (one row without samples), many classes, odd names: all render.
        let two = try ConfusionPlot(confusion: [[3, 1], [0, 0]], classNames: ["caf\u{e9}", "\u{1F436}"])
        XCTAssertEqual(two.label("caf\u{e9}"), "caf?")
        XCTAssertGreaterThan(try two.render().width, 0)
        let k = 150
        let big = try ConfusionPlot(confusion: (0..<k).map { t in (0..<k).map { $0 == t ? 5 : 0 } },
                                    classNames: (0..<k).map { "class \($0)" })
        let image = try big.render()
        XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
        XCTAssertLessThanOrEqual(image.width, 3000)
        XCTAssertEqual(plot.label("a very long class name number 14 indeed"), "a very long..indeed")
        XCTAssertEqual(BitmapFont.columns.count, 95 * 5)
    }

    func testWriteReportsAndPlotErrors() throws {
        try metrics().writeReports(to: temp.appendingPathComponent("run").path, title: "test")
        for file in ["metrics.json", "confusion.csv", "confusion.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: temp.appendingPathComponent("run/\(file)").path), file)
        }
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[1, 2]], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[1, 2], [3]], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[1, -2], [3, 4]], classNames: ["a", "b"]))
    }

    /// Width and height from the IHDR chunk, after checking the PNG signature.
    func pngSize(_ path: String) throws -> (Int, Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        func be32(_ o: Int) -> Int { bytes[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// Minimal RFC 4180 reader (quoted fields, doubled quotes).
    func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(ch) }
            } else if ch == "\"" { quoted = true
            } else if ch == "," { row.append(field); field = ""
            } else if ch == "\n" { row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(ch) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
