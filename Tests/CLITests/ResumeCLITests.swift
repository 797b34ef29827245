import Foundation
import Heads
import SafeTensors
import TestSupport
import Datasets
import XCTest

/// Long training survives: a run killed midway and resumed with --resume ends with exactly the
/// head (bit for bit) and the log an uninterrupted run gives.
final class ResumeCLITests: XCTestCase {
    func testKilledTrainSegRunResumesBitForBit() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 12, valCount: 3, size: 32, seed: 4)
        let cache = dir.appendingPathComponent("cache").path
        func args(_ out: String) -> [String] {
            ["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "1500", "--batch-size", "4",
             "--lr", "0.01", "--flip", "--cache-dir", cache, "--out", out, "--checkpoint-every", "0"]
        }
        let whole = dir.appendingPathComponent("whole").path
        let uninterrupted = try CLI.run(args(whole))
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)

        // The same run, killed outright (SIGKILL: no clean-up) once it has saved a checkpoint.
        let broken = dir.appendingPathComponent("broken").path
        XCTAssertTrue(try CLI.killAfterCheckpoint(args(broken), checkpoint: broken + "/checkpoint.safetensors"),
                      "the run finished before it could be killed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: broken + "/head.safetensors"))
        let state = try TrainingState.read(from: broken + "/checkpoint.safetensors")
        let step = try XCTUnwrap(Int(try state.string("step")))
        XCTAssertTrue((1..<1500).contains(step), "killed at step \(step)")

        // Without --resume the unfinished run is not silently replaced.
        let refused = try CLI.run(args(broken))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--resume"), refused.stderr)
        // Other settings cannot resume it.
        var other = args(broken) + ["--resume"]
        other[other.firstIndex(of: "0.01")!] = "0.02"
        let mismatch = try CLI.run(other)
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.stderr.contains("other settings"), mismatch.stderr)

        let resumed = try CLI.run(args(broken) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from step \(step)") || resumed.stderr.contains("resuming from step"), resumed.stderr)
        // The rate after a resume counts this process's steps only (it once read "1138510 steps/s").
        for line in resumed.stderr.split(separator: "\n") where line.hasPrefix("train: ") && line.contains("steps/s") {
            let rate = line.split(separator: ",").dropFirst().first.flatMap { Double($0.split(separator: " ").first ?? "") } ?? -1
            XCTAssertTrue((0..<100_000).contains(rate), String(line))
        }
        let a = try SafeTensorsFile(path: whole + "/head.safetensors"), b = try SafeTensorsFile(path: broken + "/head.safetensors")
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        for name in a.tensors.keys {
            XCTAssertEqual(try a.withBytes(of: name) { Data($0) }, try b.withBytes(of: name) { Data($0) }, "tensor \(name) differs after resuming from step \(step)")
        }
        XCTAssertEqual(try String(contentsOfFile: whole + "/train_log.csv", encoding: .utf8),
                       try String(contentsOfFile: broken + "/train_log.csv", encoding: .utf8))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: whole + "/metrics.json")),
                       try Data(contentsOf: URL(fileURLWithPath: broken + "/metrics.json")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: broken + "/checkpoint.safetensors"))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: broken + "/run.json"))) as! [String: Any]
        XCTAssertEqual((record["resumed_from"] as? [String])?.count, 2, "the first start and the refused resume with other settings")
        XCTAssertEqual(record["status"] as? String, "finished")

        // A finished run has nothing to resume.
        let finished = try CLI.run(args(broken) + ["--resume"])
        XCTAssertNotEqual(finished.status, 0)
        XCTAssertTrue(finished.stderr.contains("nothing to resume"), finished.stderr)

        // An --overwrite run over a finished one, killed midway, resumes too: the earlier results
        // and record stay whole until the resumed run publishes the same head bit for bit.
        let earlierRecord = try Data(contentsOf: URL(fileURLWithPath: whole + "/run.json"))
        XCTAssertTrue(try CLI.killAfterCheckpoint(args(whole) + ["--overwrite"], checkpoint: whole + "/checkpoint.safetensors"),
                      "the --overwrite run finished before it could be killed")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: whole + "/run.json")), earlierRecord)
        let again = try CLI.run(args(whole) + ["--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("resuming from step"), again.stderr)
        for name in a.tensors.keys {
            XCTAssertEqual(try a.withBytes(of: name) { Data($0) }, try SafeTensorsFile(path: whole + "/head.safetensors").withBytes(of: name) { Data($0) },
                           "tensor \(name) differs after resuming the --overwrite run")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: whole + "/checkpoint.safetensors"))
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: whole + "/run.json")), earlierRecord)
    }
}
