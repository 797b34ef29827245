import Evaluation
import Foundation
import Images
@testable import Plots
import XCTest

/// The confusion matrix picture: cell colours against the documented ramp, worked out by hand.
final class ConfusionPlotTests: XCTestCase {
    // Row shares: 1/4 1/4 1/2 0 | 3/4 1/4 0 0 | no samples | 1/8 0 0 7/8.
    let confusion = [[1, 1, 2, 0], [3, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 7]]
    let names = ["tench", "English springer", "caf\u{E9}", "chain saw"]

    /// Expected colours, by hand from the doc comment: stops (247,251,255), (198,219,239),
    /// (107,174,214), (33,113,181), (8,48,107) at 0, 1/4, 1/2, 3/4, 1; 1/8 is halfway between
    /// the first two ((247+198)/2 = 222.5 -> 223, 235, 247), 7/8 halfway between the last two
    /// (20.5 -> 21, 80.5 -> 81, 144). Grey rows: (215,215,215).
    let expected: [[[UInt8]]] = [
        [[198, 219, 239], [198, 219, 239], [107, 174, 214], [247, 251, 255]],
        [[33, 113, 181], [198, 219, 239], [247, 251, 255], [247, 251, 255]],
        [[215, 215, 215], [215, 215, 215], [215, 215, 215], [215, 215, 215]],
        [[223, 235, 247], [247, 251, 255], [247, 251, 255], [21, 81, 144]],
    ]

    func testCellColoursFollowTheDocumentedRamp() throws {
        let plot = try ConfusionPlot(confusion: confusion, classNames: names, title: "Imagenette val: top-1 91.2%")
        let layout = try ConfusionPlotLayout(plot: plot)
        let image = try plot.render()
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        for t in 0..<4 {
            for p in 0..<4 {
                let r = layout.cellRect(row: t, column: p)
                XCTAssertGreaterThan(r.width, 20)
                XCTAssertTrue(CGRect(x: 0, y: 0, width: image.width, height: image.height).contains(r))
                // Corners (the count sits in the middle).
                for (x, y) in [(r.minX + 1, r.minY + 1), (r.maxX - 2, r.minY + 1), (r.minX + 1, r.maxY - 2), (r.maxX - 2, r.maxY - 2)] {
                    XCTAssertEqual(PixelProbe.pixel(image, Int(x), Int(y)), expected[t][p], "cell \(t),\(p) at \(x),\(y)")
                }
                // A count is written in non-zero cells; zero cells are one flat colour.
                let fill = PixelProbe.find(expected[t][p], in: image, rect: r).count
                if confusion[t][p] == 0 {
                    XCTAssertEqual(fill, Int(r.width * r.height), "cell \(t),\(p) should be flat")
                } else {
                    XCTAssertLessThan(fill, Int(r.width * r.height) - 10, "cell \(t),\(p) has no count")
                }
            }
        }
        // The colour bar: 100% (8,48,107) at the top, 0% (247,251,255) at the bottom.
        let bar = layout.barRect
        XCTAssertEqual(PixelProbe.pixel(image, Int(bar.midX), Int(bar.minY)), [8, 48, 107])
        XCTAssertEqual(PixelProbe.pixel(image, Int(bar.midX), Int(bar.maxY) - 1), [247, 251, 255])
        // Names before each row, the title on top, nothing cut at the edges.
        for t in 0..<4 {
            let r = layout.cellRect(row: t, column: 0)
            XCTAssertGreaterThan(PixelProbe.darkCount(image, in: CGRect(x: 0, y: r.minY, width: r.minX - 2, height: r.height)), 10)
        }
        XCTAssertGreaterThan(PixelProbe.darkCount(image, in: CGRect(x: 0, y: 0, width: image.width, height: 36)), 100)
        XCTAssertTrue(PixelProbe.bordersAreWhite(image, band: 4))
        // The PNG holds exactly the rendered pixels.
        XCTAssertEqual(try PixelProbe.decode(plot.pngData()), image)
    }

    func testManyClassesLeaveNamesOutButKeepTheCells() throws {
        let k = 150
        let plot = try ConfusionPlot(confusion: (0..<k).map { t in (0..<k).map { $0 == t ? 5 : 0 } },
                                     classNames: (0..<k).map { "class \($0)" })
        let layout = try ConfusionPlotLayout(plot: plot)
        XCTAssertFalse(layout.showNames)
        let image = try plot.render()
        XCTAssertEqual(image.width, layout.width)
        XCTAssertLessThanOrEqual(image.width, 3000)
        for t in stride(from: 0, to: k, by: 37) {
            let diagonal = layout.cellRect(row: t, column: t), off = layout.cellRect(row: t, column: (t + 1) % k)
            XCTAssertEqual(PixelProbe.pixel(image, Int(diagonal.midX), Int(diagonal.midY)), [8, 48, 107])
            XCTAssertEqual(PixelProbe.pixel(image, Int(off.midX), Int(off.midY)), [247, 251, 255])
        }
    }

    func testNamesKeepAccentsAndMarkWhatTheFontCannotShow() throws {
        let plot = try ConfusionPlot(confusion: [[3, 1], [0, 0]], classNames: ["caf\u{E9}", "\u{1F436}"])
        XCTAssertEqual(try plot.label("caf\u{E9}"), "caf\u{E9}")
        XCTAssertEqual(try plot.label("\u{395}\u{3BB}\u{3BB}\u{3AC}\u{3B4}\u{3B1}"), "\u{395}\u{3BB}\u{3BB}\u{3AC}\u{3B4}\u{3B1}")
        XCTAssertEqual(try plot.label("\u{1F436}"), "?")
        XCTAssertEqual(try plot.label("a\tb\u{200B}c"), "a?b?c")
        XCTAssertEqual(try plot.label("a very long class name number 14 indeed"), "a very long..indeed")
        XCTAssertGreaterThan(try plot.render().width, 0)
    }

    func testBadMatricesAndHugePicturesAreRefused() throws {
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[1, 2]], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[1, 2], [3]], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[1, -2], [3, 4]], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ConfusionPlot(confusion: [], classNames: []))
        XCTAssertThrowsError(try ConfusionPlot(confusion: [[Int.max, 1], [0, 0]], classNames: ["a", "b"]))
        XCTAssertThrowsError(try Canvas(width: 20_000, height: 10)) { XCTAssertEqual($0 as? PlotError, .tooLarge(width: 20_000, height: 10)) }
        XCTAssertThrowsError(try Canvas(width: 0, height: 10))
    }

    func testWriteReportsWritesTheThreeFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plots-reports-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = try ClassificationMetrics(predictions: [0, 0, 1, 1, 3, 2, 0, 2], labels: [0, 0, 0, 1, 1, 2, 2, 2],
                                                classNames: ["a,b", "say \"hi\"", "plain", "d", "e"])
        try metrics.writeReports(to: dir.appendingPathComponent("run").path, title: "test")
        for file in ["metrics.json", "confusion.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/\(file)").path), file)
        }
        let png = try Data(contentsOf: dir.appendingPathComponent("run/confusion.png"))
        let plot = try ConfusionPlot(confusion: metrics.confusion, classNames: metrics.classNames, title: "test")
        XCTAssertEqual(try PixelProbe.decode(png), try plot.render())
    }
}
