import Foundation
import Images
@testable import Plots
import TestSupport
import XCTest

/// A report with a table, plots and a gallery, opened in a real (headless) browser.
final class BrowserCheckTests: XCTestCase {
    func makeReport() throws -> (HTMLReport, images: Int) {
        let confusion = try ConfusionPlot(confusion: [[40, 2, 1], [3, 35, 0], [0, 4, 50]], classNames: ["tench", "<b>&amp;", "caf\u{E9}"],
                                          title: "Imagenette val: top-1 91.2%")
        let steps = Array(stride(from: 0, through: 2000, by: 10))
        let curves = try LossCurvePlot(series: (0..<13).map { i -> LossCurvePlot.Series in
            let rate: Double = pow(10, -Double(i) / 3), floor = 0.05 * Double(i + 1), scale = 300 + 100 * Double(i)
            let values = steps.map { (step: Int) -> Float in Float(2.3 * exp(-Double(step) / scale) + floor) }
            return LossCurvePlot.Series(label: "lr " + String(format: "%.0e", rate), steps: steps, values: values)
        }, title: "13 heads")
        var report = HTMLReport(title: "dinoprobe report <test>")
        report.keyValues([("backbone", "dinov3-vits16"), ("top-1", "91.2%")])
        report.heading("Learning rates")
        report.table(header: ["lr", "val top-1"], rows: [["1e-3", "90.1%"], ["1e-2", "91.2%"], ["1e-1", "88.0%"]], highlightRow: 1)
        report.image(png: try confusion.pngData(), caption: "confusion matrix")
        report.image(png: try curves.pngData(), caption: "training loss")
        let thumbs = try (0..<6).map { i -> HTMLReport.GalleryItem in
            let w = 320, h = 240
            var pixels = [UInt8](repeating: UInt8(i * 40), count: w * h * 3)
            for p in 0..<(w * h) {
                pixels[p * 3] = UInt8((p % w) * 255 / w)
                pixels[p * 3 + 2] = UInt8((p / w) * 255 / h)
            }
            return .init(png: try Thumbnail.png(RGBImage(width: w, height: h, pixels: pixels), maxSide: 160),
                         caption: "image \(i): predicted tench", correct: i == 5 ? nil : i % 2 == 0)
        }
        report.gallery(thumbs)
        return (report, 2 + thumbs.count)
    }

    func testTheReportOpensInChromiumWithEveryImage() throws {
        guard let browser = try HeadlessChromium.find() else { throw XCTSkip("chromium is not installed (scripts/setup --tests installs it)") }
        defer { browser.removeProfile() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (report, count) = try makeReport()
        let page = dir.appendingPathComponent("report.html")
        try report.write(to: page.path)
        let check = try browser.imageCheck(page)
        XCTAssertEqual(check.images, count)
        XCTAssertEqual(check.broken, 0)
        XCTAssertTrue(check.dom.contains("dinoprobe report &lt;test&gt;"))

        let shot = dir.appendingPathComponent("screenshot.png")
        try browser.screenshot(page, to: shot, width: 1200, height: 2000)
        let image = try ImageDecoder.decode(path: shot.path)
        XCTAssertEqual([image.width, image.height], [1200, 2000])
        var colours = Set<Int>(), nonWhite = 0
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            let c = Int(image.pixels[i]) << 16 | Int(image.pixels[i + 1]) << 8 | Int(image.pixels[i + 2])
            colours.insert(c)
            if c != 0xFFFFFF { nonWhite += 1 }
        }
        XCTAssertGreaterThan(colours.count, 200, "the screenshot looks blank")
        XCTAssertGreaterThan(nonWhite, 1200 * 2000 / 20)
        if let keep = ProcessInfo.processInfo.environment["PLOTS_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep))
        }
    }
}
