import Foundation
import TestSupport
import XCTest

/// `synth correspondence` then `correspondence` on the tiny test checkpoint: the run folder's
/// files exist and every PCK is a fraction.
final class CorrespondenceCLITests: XCTestCase {
    func testSynthThenCorrespondenceWritesItsFiles() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("spair").path, out = dir.appendingPathComponent("run").path
        let cache = dir.appendingPathComponent("cache").path
        let synth = try CLI.run(["synth", "correspondence", "--out", data, "--count", "3", "--size", "96", "--seed", "2"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        XCTAssertTrue(synth.stdout.contains("18 pair annotations"), synth.stdout)
        let run = try CLI.run(["correspondence", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--soft-argmax", "2",
                               "--categories", "kite,robot", "--limit", "2", "--out", out, "--cache-dir", cache])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("4 pairs in 2 categories"), run.stdout)
        for file in ["metrics.json", "pairs.csv", "keypoints.csv", "categories.csv", "report.html", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as? [String: Any])
        let overall = try XCTUnwrap(metrics["overall"] as? [String: Any])
        XCTAssertEqual(overall["pairs"] as? Int, 4)
        for kind in ["per_point", "per_image"] {
            let values = try XCTUnwrap(overall[kind] as? [String: Double])
            XCTAssertEqual(Set(values.keys), ["0.1", "0.05", "0.01"])
            XCTAssertTrue(values.values.allSatisfy { (0...1).contains($0) }, "\(values)")
        }
        XCTAssertTrue((0...1).contains(try XCTUnwrap(metrics["headline_value"] as? Double)))
        let pairs = try String(contentsOfFile: out + "/pairs.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(pairs.count, 1 + 4)
        let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertEqual(report.components(separatedBy: "data:image/png;base64").count - 1, 4, "each pair drawn")

        // The images' grids are in the cache, one file each; a second run reads them (the files
        // stay as they were) and scores the same.
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("keypoints-") }
        XCTAssertEqual(entries.count, 6, "pairs 0-1 and 1-2 of 2 categories: images 0, 1, 2 of each: \(entries)")
        let stamps = try entries.map { try FileManager.default.attributesOfItem(atPath: cache + "/" + $0)[.modificationDate] as? Date }
        let again = try CLI.run(["correspondence", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--soft-argmax", "2",
                                 "--categories", "kite,robot", "--limit", "2", "--out", out, "--overwrite", "--cache-dir", cache])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try entries.map { try FileManager.default.attributesOfItem(atPath: cache + "/" + $0)[.modificationDate] as? Date }, stamps)
        let second = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as? [String: Any])
        XCTAssertEqual(second["overall"] as? NSDictionary, metrics["overall"] as? NSDictionary)
    }
}
