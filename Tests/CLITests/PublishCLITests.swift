import Datasets
import Foundation
import SafeTensors
import TestSupport
import XCTest

/// A run's results are published as a unit: interrupted (SIGINT) or failing (a full disk, a
/// folder where a result goes) at any publishing step, a run folder shows either none of the new
/// results or, once dinoprobe opens it again, all of them; `--resume` then ends with the files
/// an uninterrupted run writes. `DINOPROBE_TEST_PUBLISH_FAULT=N` stops the run after the Nth
/// publishing step (1: checked, 2: sealed, 3...: each result moved into place, then retired).
final class PublishCLITests: XCTestCase {
    static let results = ["head.safetensors", "train_log.csv", "loss_curves.png", "metrics.json", "per_image.csv", "confusion.csv", "report.html"]

    private struct Fixture {
        let dir: URL
        let args: (String) -> [String]
        let whole: String

        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    }

    private func makeFixture() throws -> Fixture {
        let dir = try CLI.temporaryFolder()
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeSegmentationFolder(root: data, count: 8, valCount: 2, size: 32, seed: 4)
        let cache = dir.appendingPathComponent("cache").path
        let args = { (out: String) in
            ["train-seg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "20", "--batch-size", "4",
             "--lr", "0.01", "--cache-dir", cache, "--out", out, "--checkpoint-every", "0"]
        }
        let whole = dir.appendingPathComponent("whole").path
        let run = try CLI.run(args(whole))
        XCTAssertEqual(run.status, 0, run.stderr)
        return Fixture(dir: dir, args: args, whole: whole)
    }

    /// The files an uninterrupted run wrote, byte for byte (report.html and run.json hold times).
    private func assertSameResults(_ folder: String, as whole: String, file: StaticString = #filePath, line: UInt = #line) throws {
        // The head's tensors (its metadata names its own run).
        let a = try SafeTensorsFile(path: whole + "/head.safetensors"), b = try SafeTensorsFile(path: folder + "/head.safetensors")
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys), file: file, line: line)
        for name in a.tensors.keys {
            XCTAssertEqual(try a.withBytes(of: name) { Data($0) }, try b.withBytes(of: name) { Data($0) }, "tensor \(name)", file: file, line: line)
        }
        for name in ["train_log.csv", "metrics.json", "per_image.csv", "confusion.csv"] {
            XCTAssertEqual(FileManager.default.contents(atPath: folder + "/" + name), FileManager.default.contents(atPath: whole + "/" + name),
                           "\(name) differs from an uninterrupted run's", file: file, line: line)
        }
        for name in Self.results { XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + name), name, file: file, line: line) }
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/run.json"))) as? [String: Any]
        XCTAssertEqual(record?["status"] as? String, "finished", file: file, line: line)
        XCTAssertEqual(Set(record?["outputs"] as? [String] ?? []), Set(Self.results + ["run.json"]), file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/checkpoint.safetensors"), file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/.staging"), file: file, line: line)
    }

    private func visibleResults(_ folder: String) -> [String] {
        Self.results.filter { FileManager.default.fileExists(atPath: folder + "/" + $0) }
    }

    func testSIGINTAtEachPublishingStepThenResumeGivesTheUninterruptedResults() throws {
        let fixture = try makeFixture()
        defer { try? FileManager.default.removeItem(at: fixture.dir) }
        // 1: checked (nothing sealed), 5: sealed and three results moved, 10: everything moved and the checkpoint retired.
        for step in [1, 5, 10] {
            let out = fixture.path("stopped-\(step)")
            let stopped = try CLI.run(fixture.args(out), environment: ["DINOPROBE_TEST_PUBLISH_FAULT": "\(step)"])
            XCTAssertEqual(stopped.status, 130, "step \(step): \(stopped.stderr)")
            if step == 1 {
                XCTAssertEqual(visibleResults(out), [], "nothing is published before the results are sealed")
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors"), "the checkpoint is kept until publishing completes")
                // A plain rerun does not take the folder for a finished run, nor start over silently.
                let plain = try CLI.run(fixture.args(out))
                XCTAssertNotEqual(plain.status, 0)
                XCTAssertTrue(plain.stderr.contains("--resume"), plain.stderr)
                XCTAssertFalse(plain.stderr.contains("already holds"), plain.stderr)
            }
            let resumed = try CLI.run(fixture.args(out) + ["--resume"])
            XCTAssertEqual(resumed.status, 0, "step \(step): \(resumed.stderr)")
            try assertSameResults(out, as: fixture.whole)
            if step == 1 {
                // Resumed from the last step's checkpoint: no training step ran in this process, so
                // the rate cannot be the whole run's steps over a few microseconds.
                let line = try XCTUnwrap(resumed.stderr.split(separator: "\n").first { $0.hasPrefix("train: ") && $0.contains("steps/s") }, resumed.stderr)
                let rate = try XCTUnwrap(line.split(separator: ",").dropFirst().first.flatMap { Double($0.split(separator: " ").first ?? "") }, String(line))
                XCTAssertLessThan(rate, 1, String(line))
            } else {
                XCTAssertTrue(resumed.stderr.contains("finished publishing"), resumed.stderr)
            }
        }
    }

    func testFailingWritesPublishNothingAndResumeCompletes() throws {
        let fixture = try makeFixture()
        defer { try? FileManager.default.removeItem(at: fixture.dir) }
        // A full disk while checking (before sealing): an error, the staged files removed, nothing published.
        let full = fixture.path("full")
        let failed = try CLI.run(fixture.args(full), environment: ["DINOPROBE_TEST_PUBLISH_FAULT": "1:error"])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertTrue(failed.stderr.contains("No space left"), failed.stderr)
        XCTAssertEqual(visibleResults(full), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: full + "/.staging"))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: full + "/run.json"))) as? [String: Any]
        XCTAssertEqual(record?["status"] as? String, "stopped before finishing")
        let resumed = try CLI.run(fixture.args(full) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameResults(full, as: fixture.whole)

        // A folder where report.html goes: refused before anything is published.
        let blocked = fixture.path("blocked")
        try FileManager.default.createDirectory(atPath: blocked + "/report.html", withIntermediateDirectories: true)
        let refused = try CLI.run(fixture.args(blocked))
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("report.html is a folder"), refused.stderr)
        XCTAssertEqual(visibleResults(blocked), ["report.html"], "only the folder that was in the way")
        try FileManager.default.removeItem(atPath: blocked + "/report.html")
        let fixed = try CLI.run(fixture.args(blocked) + ["--resume"])
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        try assertSameResults(blocked, as: fixture.whole)
    }

    /// A learning rate that diverges puts NaN losses in grid.json: written as null, and the run
    /// finishes with every result, instead of an encoding error after the head was saved.
    func testDivergedLearningRateWritesNullAndPublishesEverything() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 3, perClass: 8, valPerClass: 3, size: 32, seed: 2)
        let out = dir.appendingPathComponent("run").path
        let run = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--epochs", "1",
                               "--iters-per-epoch", "20", "--batch-size", "8", "--lrs", "0.00001,1000", "--weight-decay", "10", "--out", out,
                               "--cache-dir", dir.appendingPathComponent("cache").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let grid = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/grid.json"))) as? [String: Any]
        let diverged = (grid?["grid"] as? [String: Any])?["diverged_at_step"] as? [Any]
        XCTAssertTrue(diverged?.contains { $0 is Int } == true, "the rate 1000 with weight decay 10 diverges: \(String(describing: diverged))")
        let losses = (grid?["grid"] as? [String: Any])?["final_losses"] as? [Any]
        XCTAssertTrue(losses?.contains { $0 is NSNull } == true, "a NaN loss is written as null: \(String(describing: losses))")
        for name in ["head.safetensors", "metrics.json", "grid.json", "report.html", "predictions.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + name), name)
        }
    }
}
