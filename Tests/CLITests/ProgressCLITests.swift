import Datasets
import Foundation
import TestSupport
import XCTest

/// Progress in logs (standard error not a terminal) goes by time: a task of sub-second steps
/// writes its summary, not a line per tenth of the work.
final class ProgressCLITests: XCTestCase {
    func testPipedProgressOfAQuickTaskIsItsSummary() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 2, perClass: 4, valPerClass: 2, size: 16, seed: 4)
        let r = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "16", "--threads", "1", "--no-cache",
                             "--epochs", "2", "--iters-per-epoch", "50", "--lrs", "0.01", "--out", dir.appendingPathComponent("run").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("train: ") }
        XCTAssertGreaterThanOrEqual(lines.count, 1, r.stderr)
        XCTAssertLessThanOrEqual(lines.count, 2, "100 quick steps: the summary (and a line after a second at most), not ten: \(r.stderr)")
        XCTAssertTrue(lines.last?.contains("100/100 steps") == true, r.stderr)
    }
}
