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

    /// retrieval --shard 0/2 and 1/2 fill the parts of the feature cache's entries (queries and
    /// database, each scale); the run without a shard ranks from them, extracting nothing, and
    /// writes the files one process writes. A damaged part is refused and extracted again; a shard
    /// of other settings leaves this one's shards to run; a shard out of range is refused.
    func testShardsThenOneRunEqualOneProcess() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("landmarks").path, cache = dir.appendingPathComponent("cache").path
        XCTAssertEqual(try CLI.run(["synth", "retrieval", "--out", data, "--size", "48"]).status, 0)
        func retrieval(_ extra: [String]) throws -> CLI.Result {
            try CLI.run(["retrieval", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--scales", "1,0.5",
                         "--extract-batch-size", "4"] + extra, in: dir)
        }
        let first = try retrieval(["--cache-dir", cache, "--shard", "0/2"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("shard 0/2 (from --shard) of retrieval-database-64px: images 0..<12 of 26: 12 extracted, 0 already cached"), first.stdout)
        XCTAssertTrue(first.stdout.contains("shards still to run: 1/2"), first.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path), "a shard makes no run folder")
        // A killed shard's damaged last part is refused and only its images are extracted again.
        let parts = try FileManager.default.contentsOfDirectory(atPath: cache)
            .filter { $0.hasPrefix("retrieval-database-64px-") && $0.contains(".part-") }.sorted()
        XCTAssertEqual(parts.count, 2, "\(parts)")
        let damaged = try XCTUnwrap(FileHandle(forWritingAtPath: cache + "/" + parts[1]))
        try damaged.truncate(atOffset: 100)
        try damaged.close()
        let again = try retrieval(["--cache-dir", cache, "--shard", "0/2"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("is unusable"), again.stderr)
        XCTAssertTrue(again.stdout.contains("of retrieval-database-64px: images 0..<12 of 26: 8 extracted, 4 already cached"), again.stdout)
        // Other tokens (GeM, cached apart) do not stand in for this shard.
        let gem = try retrieval(["--cache-dir", cache, "--shard", "1/2", "--tokens", "gem"])
        XCTAssertEqual(gem.status, 0, gem.stderr)
        XCTAssertTrue(gem.stdout.contains("shards still to run: 0/2"), gem.stdout)
        let second = try retrieval(["--cache-dir", cache, "--shard", "1/2"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("all 2 shards' features are cached"), second.stdout)
        let joined = try retrieval(["--cache-dir", cache, "--out", "joined"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertTrue(joined.stderr.contains("extract retrieval-database-64px: 26 of 26 images already extracted in parts"), joined.stderr)
        XCTAssertFalse(joined.stderr.split(separator: "\n").contains { $0.hasPrefix("extract") && $0.contains("images/s") },
                       "nothing went through the backbone: \(joined.stderr)")
        XCTAssertEqual(joined.stderr.components(separatedBy: "already extracted in parts").count - 1, 4, "every entry from the shards: \(joined.stderr)")
        let single = try retrieval(["--no-cache", "--out", "single"])
        XCTAssertEqual(single.status, 0, single.stderr)
        for file in ["metrics.json", "ranks.csv", "queries.csv"] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("joined/" + file)),
                           try Data(contentsOf: dir.appendingPathComponent("single/" + file)), file)
        }
        let outside = try retrieval(["--cache-dir", cache, "--shard", "2/2"])
        XCTAssertNotEqual(outside.status, 0)
        XCTAssertTrue(outside.stderr.contains("shard 2 does not exist among 2"), outside.stderr)
        let uncached = try retrieval(["--no-cache", "--shard", "0/2"])
        XCTAssertNotEqual(uncached.status, 0)
        XCTAssertTrue(uncached.stderr.contains("drop --no-cache"), uncached.stderr)
    }
}
