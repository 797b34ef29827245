import Foundation
import Images
import TestSupport
import XCTest

/// synth video -> propagate on the tiny test checkpoint: a PNG per frame with the input palette,
/// J&F within [0, 1] in metrics.json, the CSVs and the report; a broken video skipped by name.
final class PropagateCLITests: XCTestCase {
    func testSynthVideoThenPropagate() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let synth = try CLI.run(["synth", "video", "--out", "davis", "--frames", "5", "--width", "48", "--height", "32"], in: dir)
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let r = try CLI.run(["propagate", "--model", CLI.tinyModel, "--data", "davis", "--scale-size", "64", "--radius", "2", "--out", "run",
                                 "--cache-dir", "cache"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("J&F-Mean"), r.stdout)
        XCTAssertTrue(r.stderr.contains("frames"), "progress is reported: \(r.stderr)")
        let run = dir.appendingPathComponent("run").path, data = dir.appendingPathComponent("davis").path
        for video in ["video-00", "video-01"] {
            for t in 0..<5 {
                let out = "\(run)/\(video)/0000\(t).png", annotation = "\(data)/Annotations/480p/\(video)/0000\(t).png"
                XCTAssertEqual(try MaskDecoder.palette(path: out), try MaskDecoder.palette(path: annotation), out)
                XCTAssertEqual(try MaskDecoder.decode(path: out).width, 48)
            }
        }
        XCTAssertEqual(try MaskDecoder.decode(path: "\(run)/video-01/00000.png"), try MaskDecoder.decode(path: "\(data)/Annotations/480p/video-01/00000.png"))
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json"))) as! [String: Any]
        let global = try XCTUnwrap(metrics["global"] as? [String: Any])
        let jf = try XCTUnwrap(global["jf_mean"] as? Double)
        XCTAssertTrue((0...1).contains(jf), "\(jf)")
        XCTAssertEqual(global["objects"] as? Int, 3, "video-00 has one object, video-01 two")
        let perObject = try String(contentsOfFile: run + "/per_object.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(perObject.count, 1 + 3)
        XCTAssertTrue(try String(contentsOfFile: run + "/report.html", encoding: .utf8).contains("video-01: propagated masks"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/run.json"))
        // Again from the cached tokens (one entry per video): the same results.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cache").path).count, 2)
        let again = try CLI.run(["propagate", "--model", CLI.tinyModel, "--data", "davis", "--scale-size", "64", "--radius", "2", "--out", "again",
                                 "--cache-dir", "cache"], in: dir)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try String(contentsOfFile: run + "/per_object.csv", encoding: .utf8),
                       try String(contentsOfFile: dir.appendingPathComponent("again/per_object.csv").path, encoding: .utf8))

        // A gap in one video's frames: that video is skipped by name, the other still runs, exit 1.
        try FileManager.default.removeItem(atPath: data + "/JPEGImages/480p/video-00/00002.jpg")
        let gap = try CLI.run(["propagate", "--model", CLI.tinyModel, "--data", "davis", "--scale-size", "64", "--out", "gap", "--no-cache"], in: dir)
        XCTAssertEqual(gap.status, 1, gap.stderr)
        XCTAssertTrue(gap.stderr.contains("skipped video video-00") && gap.stderr.contains("missing frames"), gap.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gap/video-01/00004.png").path))
    }

    /// propagate --shard 0/2 and 1/2 cache one video's tokens each; the run without a shard
    /// propagates from the cache and writes what one process writes. A damaged entry is refused
    /// and extracted again; a shard of another model leaves this one's shards to run; a shard
    /// out of range is refused.
    func testShardsThenOneRunEqualOneProcess() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try CLI.run(["synth", "video", "--out", "davis", "--frames", "4", "--width", "48", "--height", "32"], in: dir).status, 0)
        func propagate(_ extra: [String], model: String = CLI.tinyModel) throws -> CLI.Result {
            try CLI.run(["propagate", "--model", model, "--data", "davis", "--scale-size", "64", "--radius", "2"] + extra, in: dir)
        }
        let first = try propagate(["--cache-dir", "cache", "--shard", "0/2"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("shard 0/2 (from --shard) of val: videos 0..<1 of 2: 1 extracted, 0 already cached"), first.stdout)
        XCTAssertTrue(first.stdout.contains("shards still to run: 1/2"), first.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path), "a shard makes no run folder")
        let other = try propagate(["--cache-dir", "other", "--shard", "1/2"], model: CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/models/reg0").path)
        XCTAssertEqual(other.status, 0, other.stderr)
        let second = try propagate(["--cache-dir", "cache", "--shard", "1/2"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("all 2 shards' features are cached"), second.stdout)
        let mixed = try propagate(["--cache-dir", "other", "--shard", "1/2"])
        XCTAssertTrue(mixed.stdout.contains("shards still to run: 0/2"), "another model's video is not this model's: \(mixed.stdout)")
        // A damaged entry (a killed copy, a full disk) is named, removed and extracted again.
        let cache = dir.appendingPathComponent("cache").path
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("video-tokens-") }
        XCTAssertEqual(entries.count, 2, "\(entries)")
        let damaged = try XCTUnwrap(FileHandle(forWritingAtPath: cache + "/" + entries[0]))
        try damaged.truncate(atOffset: 64)
        try damaged.close()
        let joined = try propagate(["--cache-dir", "cache", "--out", "joined"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertEqual(joined.stderr.components(separatedBy: "is unusable").count - 1, 1, joined.stderr)
        let single = try propagate(["--no-cache", "--out", "single"])
        XCTAssertEqual(single.status, 0, single.stderr)
        for file in ["metrics.json", "per_video.csv", "per_object.csv", "video-00/00002.png", "video-01/00003.png"] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("joined/" + file)),
                           try Data(contentsOf: dir.appendingPathComponent("single/" + file)), file)
        }
        let outside = try propagate(["--cache-dir", "cache", "--shard", "2/2"])
        XCTAssertNotEqual(outside.status, 0)
        XCTAssertTrue(outside.stderr.contains("shard 2 does not exist among 2"), outside.stderr)
        let uncached = try propagate(["--no-cache", "--shard", "0/2"])
        XCTAssertNotEqual(uncached.status, 0)
        XCTAssertTrue(uncached.stderr.contains("drop --no-cache"), uncached.stderr)
    }
}
