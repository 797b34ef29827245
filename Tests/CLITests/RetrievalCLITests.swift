import Foundation
import TestSupport
import XCTest

/// synth retrieval -> retrieval (with distractors) on the tiny test checkpoint.
final class RetrievalCLITests: XCTestCase {
    func testSynthAndRetrievalEndToEnd() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("landmarks").path, extra = dir.appendingPathComponent("extra").path
        let synth = try CLI.run(["synth", "retrieval", "--out", data, "--size", "48"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
        for i in 0..<2 { try FileManager.default.copyItem(atPath: data + "/jpg/distractor\(i).jpg", toPath: extra + "/d\(i).jpg") }
        let run = dir.appendingPathComponent("run").path, cache = dir.appendingPathComponent("cache").path
        let args = ["retrieval", "--model", CLI.tinyModel, "--data", data, "--distractors", extra, "--size", "64", "--scales", "1,0.5",
                    "--out", run, "--cache-dir", cache]
        let first = try CLI.run(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json"))) as? [String: Any]
        XCTAssertEqual(metrics?["queries"] as? Int, 4)
        XCTAssertEqual(metrics?["database"] as? Int, 26 + 2)
        let setups = try XCTUnwrap(metrics?["setups"] as? [String: [String: Any]])
        for setup in ["E", "M", "H"] {
            let mAP = try XCTUnwrap(setups[setup]?["map"] as? Double, setup)
            XCTAssertTrue((0...100).contains(mAP), "\(setup) mAP \(mAP)")
        }
        let ranks = try String(contentsOfFile: run + "/ranks.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(ranks.first, "query,rank,image,score,label_E,label_M,label_H")
        XCTAssertEqual(ranks.count, 1 + 4 * 28)
        XCTAssertTrue(ranks.contains { $0.hasPrefix("query0,1,") }, "rank 1 of query0")
        XCTAssertTrue(ranks.contains { $0.contains(",d1.jpg,") }, "distractors are ranked by their names")
        XCTAssertEqual(try String(contentsOfFile: run + "/queries.csv", encoding: .utf8).split(separator: "\n").count, 1 + 4)
        for file in ["report.html", "run.json"] { XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + file), file) }
        // A second run reads every feature from the cache and gives the same ranks.
        let second = try CLI.run(args + ["--overwrite"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stderr.contains("extract"), second.stderr)
        XCTAssertEqual(try String(contentsOfFile: run + "/ranks.csv", encoding: .utf8).split(separator: "\n"), ranks)
        // GeM features are extracted (and cached) apart from the mean-patch ones.
        let gem = try CLI.run(["retrieval", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--tokens", "gem", "--out", run, "--overwrite",
                               "--cache-dir", cache])
        XCTAssertEqual(gem.status, 0, gem.stderr)
        XCTAssertTrue(gem.stderr.contains("extract retrieval-database-64px"), gem.stderr)
        XCTAssertTrue(gem.stdout.contains("  M  mAP"), gem.stdout)
    }
}
