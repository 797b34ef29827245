import Datasets
import Foundation
import TestSupport
import XCTest

/// One path convention in every CSV file: as given on the command line.
final class OutputFilesCLITests: XCTestCase {
    func testCSVPathsAreAsGivenOnTheCommandLine() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try SyntheticData.makeClassificationFolder(root: dir.appendingPathComponent("shapes").path, classes: 2, perClass: 3, valPerClass: 2,
                                                       size: 16, seed: 5)
        let r = try CLI.run(["knn", "--model", CLI.tinyModel, "--data", "shapes", "--size", "16", "--threads", "1", "--no-cache", "--k", "3",
                             "--out", "knn"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try String(contentsOfFile: dir.appendingPathComponent("knn/predictions-k3.csv").path, encoding: .utf8)
            .split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 4)
        for row in rows { XCTAssertTrue(row.hasPrefix("shapes/val/class_"), String(row)) }
    }
}
