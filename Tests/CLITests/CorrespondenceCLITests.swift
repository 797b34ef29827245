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

    /// correspondence --shard 0/2 and 1/2 cache half of the pairs' images each; the run without a
    /// shard matches from the cache and writes what one process writes. A damaged entry is refused
    /// and extracted again; a shard of another size leaves this one's shards to run; a shard out
    /// of range is refused.
    func testShardsThenOneRunEqualOneProcess() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let synth = try CLI.run(["synth", "correspondence", "--out", "spair", "--count", "3", "--size", "96", "--seed", "2"], in: dir)
        XCTAssertEqual(synth.status, 0, synth.stderr)
        func correspondence(_ extra: [String], size: String = "64") throws -> CLI.Result {
            try CLI.run(["correspondence", "--model", CLI.tinyModel, "--data", "spair", "--size", size, "--soft-argmax", "2",
                         "--categories", "kite,robot", "--limit", "2"] + extra, in: dir)
        }
        let first = try correspondence(["--cache-dir", "cache", "--shard", "0/2"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("shard 0/2 (from --shard) of test: images 0..<3 of 6: 3 extracted, 0 already cached"), first.stdout)
        XCTAssertTrue(first.stdout.contains("shards still to run: 1/2"), first.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path), "a shard makes no run folder")
        let other = try correspondence(["--cache-dir", "other", "--shard", "0/2"], size: "48")
        XCTAssertEqual(other.status, 0, other.stderr)
        let mixed = try correspondence(["--cache-dir", "other", "--shard", "1/2"])
        XCTAssertTrue(mixed.stdout.contains("shards still to run: 0/2"), "grids of another size are not these: \(mixed.stdout)")
        let second = try correspondence(["--cache-dir", "cache", "--shard", "1/2"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("all 2 shards' features are cached"), second.stdout)
        // A damaged entry is named, removed and extracted again.
        let cache = dir.appendingPathComponent("cache").path
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("keypoints-") }.sorted()
        XCTAssertEqual(entries.count, 6, "\(entries)")
        let damaged = try XCTUnwrap(FileHandle(forWritingAtPath: cache + "/" + entries[0]))
        try damaged.truncate(atOffset: 64)
        try damaged.close()
        let joined = try correspondence(["--cache-dir", "cache", "--out", "joined"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertEqual(joined.stderr.components(separatedBy: "is unusable").count - 1, 1, joined.stderr)
        let single = try correspondence(["--no-cache", "--out", "single"])
        XCTAssertEqual(single.status, 0, single.stderr)
        for file in ["metrics.json", "pairs.csv", "keypoints.csv", "categories.csv"] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("joined/" + file)),
                           try Data(contentsOf: dir.appendingPathComponent("single/" + file)), file)
        }
        let outside = try correspondence(["--cache-dir", "cache", "--shard", "2/2"])
        XCTAssertNotEqual(outside.status, 0)
        XCTAssertTrue(outside.stderr.contains("shard 2 does not exist among 2"), outside.stderr)
        let uncached = try correspondence(["--no-cache", "--shard", "0/2"])
        XCTAssertNotEqual(uncached.status, 0)
        XCTAssertTrue(uncached.stderr.contains("drop --no-cache"), uncached.stderr)
    }
}
