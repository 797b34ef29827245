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
}
