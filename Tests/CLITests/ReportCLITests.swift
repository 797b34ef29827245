import Foundation
import Images
import TestSupport
import Datasets
import XCTest

/// The report.html of real runs: one self-contained page that opens in a real browser with every
/// picture intact, and the loss curves and confusion matrix beside it.
final class ReportCLITests: XCTestCase {
    func testTrainingReportsOpenInABrowserWithEveryImage() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classes = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: classes, classes: 3, perClass: 10, valPerClass: 4, size: 40, seed: 8)
        let linear = dir.appendingPathComponent("linear").path
        let probe = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", classes, "--size", "32", "--epochs", "2",
                                 "--iters-per-epoch", "20", "--batch-size", "8", "--no-cache", "--out", linear])
        XCTAssertEqual(probe.status, 0, probe.stderr)
        let segData = dir.appendingPathComponent("seg-data").path
        _ = try SyntheticData.makeSegmentationFolder(root: segData, count: 8, valCount: 3, size: 48, seed: 2)
        let seg = dir.appendingPathComponent("seg").path
        let train = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", segData, "--size", "32", "--iters", "30",
                                 "--no-cache", "--out", seg])
        XCTAssertEqual(train.status, 0, train.stderr)

        for folder in [linear, seg] {
            for file in ["report.html", "loss_curves.png", "train_log.csv"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + file), "\(folder)/\(file)")
            }
            let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
            XCTAssertFalse(html.contains("src=\"http") || html.contains("src=\"file"), "the page refers only to itself")
            XCTAssertTrue(html.contains("Options (resolved, defaults included)"))
            // Top down: the headline result first, the provenance last and collapsed.
            let headline = try XCTUnwrap(html.range(of: "class=\"headline\""), folder)
            let details = try XCTUnwrap(html.range(of: "<details><summary>Run, options and provenance</summary>"), folder)
            XCTAssertLessThan(headline.lowerBound, try XCTUnwrap(html.range(of: "<h2>")).lowerBound, "nothing before the headline")
            XCTAssertLessThan(try XCTUnwrap(html.range(of: "Sample predictions on val")).lowerBound, details.lowerBound)
            XCTAssertTrue(html.contains("run of ") && html.contains(" s on "), "the run's duration")
        }
        let linearHTML = try String(contentsOfFile: linear + "/report.html", encoding: .utf8)
        XCTAssertTrue(linearHTML.contains("Learning-rate grid"))
        XCTAssertTrue(linearHTML.contains("Sample predictions on val"))
        XCTAssertTrue(try String(contentsOfFile: seg + "/report.html", encoding: .utf8).contains("ground truth"))
        let curves = try ImageDecoder.decode(path: linear + "/loss_curves.png")
        XCTAssertGreaterThan(curves.width, 300)

        guard let browser = try HeadlessChromium.find() else { throw XCTSkip("chromium is not installed (scripts/setup --tests installs it)") }
        defer { browser.removeProfile() }
        // train-linear: confusion matrix + loss curves + at least a few thumbnails; train-seg: loss
        // curves + image | truth | prediction for each of the 3 val samples.
        let linearCheck = try browser.imageCheck(URL(fileURLWithPath: linear + "/report.html"))
        XCTAssertGreaterThanOrEqual(linearCheck.images, 2 + 4)
        XCTAssertEqual(linearCheck.broken, 0)
        let segCheck = try browser.imageCheck(URL(fileURLWithPath: seg + "/report.html"))
        XCTAssertEqual(segCheck.images, 1 + 3 * 3)
        XCTAssertEqual(segCheck.broken, 0)
        // The headline result is on the first screen (800 px) of either report, as chromium lays it out.
        for folder in [linear, seg] {
            let bottom = try XCTUnwrap(try browser.bottom(of: "headline", in: URL(fileURLWithPath: folder + "/report.html"), width: 1280, height: 800))
            XCTAssertLessThan(bottom, 800, folder)
            let shot = dir.appendingPathComponent("first-screen.png")
            try browser.screenshot(URL(fileURLWithPath: folder + "/report.html"), to: shot, width: 1280, height: 800)
            let picture = try ImageDecoder.decode(path: shot.path)
            XCTAssertEqual([picture.width, picture.height], [1280, 800])
            // The headline is painted there: dark text pixels in the band it occupies.
            let rows = Int(bottom)
            let dark = stride(from: 0, to: rows * 1280 * 3, by: 3).filter { Int(picture.pixels[$0]) + Int(picture.pixels[$0 + 1]) < 160 }.count
            XCTAssertGreaterThan(dark, 500, "\(folder): the first screen shows the headline")
        }
        if let keep = ProcessInfo.processInfo.environment["REPORT_SCREENSHOT"] {
            try browser.screenshot(URL(fileURLWithPath: linear + "/report.html"), to: URL(fileURLWithPath: keep), width: 1200, height: 3000)
        }
    }
}
