import Foundation
@testable import Evaluation
import XCTest

/// metrics.json, confusion.csv and the terminal tables (the pictures: PlotsTests).
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
        XCTAssertEqual(object["class_names"] as? [String], names)
        XCTAssertEqual(object["count"] as? Int, 8)
        XCTAssertTrue(object["top5"] is NSNull) // present, null
        XCTAssertEqual(object["top1"] as? Double, 0.625)
        let recall = try XCTUnwrap(object["per_class_recall"] as? [Any])
        XCTAssertTrue(recall[3] is NSNull)
        XCTAssertEqual(object["confusion"] as? [[Int]], m.confusion)
        let text = String(decoding: data, as: UTF8.self)
        let keys = ["balanced_accuracy", "class_names", "confusion", "count", "macro_f1", "per_class_recall"]
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
        XCTAssertEqual(json["class_names"] as? [String], r.classNames)
        XCTAssertTrue((json["per_class_accuracy"] as? [Any])?[2] is NSNull)
        XCTAssertEqual(try JSONDecoder().decode(SegmentationResult.self, from: r.jsonData()), r)
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
