import Evaluation
import Foundation
import FuzzTargets
import Heads
import Support
import XCTest

/// Class 3 (issue 33) and the CSV part of class 9: every CSV file goes through `CSVWriter`, which
/// prefixes text cells starting with `= + - @`, tab or CR (and `'`) with `'` (OWASP), writes numbers
/// as numbers, and percent-encodes bytes that are not UTF-8. Before it, class and file names
/// reached predictions.csv, confusion.csv and per_image.csv as they were, formulas included, and
/// names that are not UTF-8 as internal U+10FFxx code points.
final class CSVInjectionTests: XCTestCase {
    static let hostileNames = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "'quoted", "plain"]
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// The cells of `csv` (which must parse as RFC 4180), asserting that none starts with a formula
    /// character unless it is a number.
    func checkedCells(_ csv: String, file: StaticString = #filePath, line: UInt = #line) -> [[String]] {
        guard let rows = CSVReading.parse(csv) else {
            XCTFail("not RFC 4180: \(csv.debugDescription)", file: file, line: line)
            return []
        }
        for cell in rows.joined() {
            guard let first = cell.unicodeScalars.first, Self.formulaStarts.contains(first) else { continue }
            XCTAssertNotNil(Double(cell), "cell \(cell.debugDescription) starts with a formula character", file: file, line: line)
        }
        return rows
    }

    func text(_ cell: String) -> String? { CSVReading.originalBytes(ofText: cell).map { PathCodec.string(fromBytes: $0) } }

    func testPredictionsNeutraliseClassAndFileNames() throws {
        let names = Self.hostileNames
        let paths = ["=cmd|' /C calc'!A0.jpg", "-x.jpg", "@y.jpg"]
        var probabilities = [Float](repeating: 0, count: paths.count * names.count)
        for i in paths.indices { probabilities[i * names.count + i] = 1 }
        let csv = try ClassificationPredictions(paths: paths, probabilities: probabilities, labels: [0, 1, 3], classNames: names, top: 2).csv()
        let rows = checkedCells(csv)
        XCTAssertEqual(rows.dropFirst().map { text($0[0]) }, paths)
        XCTAssertEqual(rows.dropFirst().map { text($0[1]) }, [names[0], names[1], names[3]])
        XCTAssertEqual(rows.dropFirst().map { text($0[3]) }, [names[0], names[1], names[2]])
        XCTAssertEqual(rows[1][4], "1.0")
    }

    func testConfusionMatricesAndPerImageScoresNeutraliseNames() throws {
        let names = Self.hostileNames
        let labels = Array(names.indices)
        let classification = try ClassificationMetrics(predictions: labels, labels: labels, classNames: names)
        let segmentation = try SegmentationMetrics(numClasses: names.count, classNames: names)
        for csv in [classification.confusionCSV(), segmentation.confusionCSV()] {
            let rows = checkedCells(csv)
            XCTAssertEqual(rows[0].dropFirst().map(text), names)
            XCTAssertEqual(rows.dropFirst().map { text($0[0]) }, names)
        }
        var metrics = try SegmentationMetrics(numClasses: 2)
        let score = try metrics.addImage(prediction: [0, 1, 1, 255], label: [0, 1, 0, 255], image: "=1+1.jpg", mask: "+mask.png")
        let rows = checkedCells(SegmentationImageScore.csv([score]))
        XCTAssertEqual(rows[1], ["'=1+1.jpg", "'+mask.png", "4", "1", String(score.accuracy ?? 0), String(score.meanIoU ?? 0), "2"])
    }

    func testTrainingLogKeepsNegativeNumbersAsNumbers() {
        var log = TrainingLog(series: ["-1", "=A1"])
        log.append(learningRates: [0.5, 0.25], losses: [-0.5, .nan])
        XCTAssertEqual(checkedCells(log.csv()), [["step", "series", "learning_rate", "loss"], ["1", "'-1", "0.5", "-0.5"], ["1", "'=A1", "0.25", "nan"]])
    }

    func testNamesThatAreNotUTF8ArePercentEncodedLosslessly() {
        let bytes: [UInt8] = Array("caf".utf8) + [0xE9] + Array("-100%.jpg".utf8)
        let name = PathCodec.string(fromBytes: bytes)
        var csv = CSVWriter(header: ["path"])
        csv.row([.text(name)])
        csv.row([.text("100%")])
        XCTAssertEqual(csv.text, "path\ncaf%E9-100%25.jpg\n100%25\n")
        XCTAssertFalse(csv.text.unicodeScalars.contains { PathCodec.isEscapedByte($0) })
        XCTAssertEqual(CSVReading.originalBytes(ofText: "caf%E9-100%25.jpg"), bytes)
        // The form Python's urllib.parse.unquote_to_bytes decodes; a name starting with an
        // escaped byte is encoded first, so '%' never needs the formula prefix.
        XCTAssertEqual(CSVWriter.field(.text(PathCodec.string(fromBytes: [0xFF, 0x3D]))), "%FF=")
    }

    func testQuotingAndPrefixTogether() {
        XCTAssertEqual(CSVWriter.field(.text("=a,\"b\"\nc")), "\"'=a,\"\"b\"\"\nc\"")
        XCTAssertEqual(CSVWriter.field(.number(-0.5)), "-0.5")
        XCTAssertEqual(CSVWriter.field(.integer(-3)), "-3")
        XCTAssertEqual(CSVWriter.field(.text("-0.5")), "'-0.5")
        XCTAssertEqual(CSVReading.parse("a,\"b\"\"c\"\r\n\"d\ne\",\n"), [["a", "b\"c"], ["d\ne", ""]])
        XCTAssertNil(CSVReading.parse("a\"b\n"))
    }

    func testTheFuzzTargetsRunOnHostileSeeds() {
        FuzzTargets.csv(Data("=a\u{1F}+b\u{1E}\u{FF}%\u{1F}\r\n\"".utf8))
        FuzzTargets.csv(Data([0x01, 0xBF, 0xE0, 0, 0, 0, 0, 0, 0, 0x1F, 0xE9]))
        FuzzTargets.lists(Data("../../../outside/secret\nout\noutdir/secret\na\nin\n".utf8))
    }
}
