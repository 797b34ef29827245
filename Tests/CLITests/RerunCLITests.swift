import Foundation
import SafeTensors
import TestSupport
import Training
import Datasets
import Heads
import XCTest

/// `rerun RUN/run.json`: the recorded command again, every option at its recorded value.
final class RerunCLITests: XCTestCase {
    func testARerunFromRelativePathsGivesTheSameHeadAndPinsOptionsTheCommandLineLeftOut() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try SyntheticData.makeClassificationFolder(root: dir.appendingPathComponent("shapes").path, classes: 3, perClass: 8,
                                                       valPerClass: 3, size: 48, seed: 4)
        // Relative paths: the rerun resolves them from the recorded working folder, not its own.
        let first = try CLI.run(["train-linear", "--data", "shapes", "--model", CLI.tinyModel, "--epochs", "2", "--iters-per-epoch", "10",
                                 "--batch-size", "8", "--lrs", "0.01,0.1", "--no-cache", "--out", "runs/a"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try CLI.run(["rerun", dir.path + "/runs/a/run.json", "--out", dir.path + "/runs/b"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let (a, b) = (try SafeTensorsFile(path: dir.path + "/runs/a/head.safetensors"), try SafeTensorsFile(path: dir.path + "/runs/b/head.safetensors"))
        for name in ["weight", "bias"] { XCTAssertEqual(try a.floats(name), try b.floats(name), name) }
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("runs/a/metrics.json")),
                       try Data(contentsOf: dir.appendingPathComponent("runs/b/metrics.json")))
        let record = try String(contentsOfFile: dir.path + "/runs/b/run.json", encoding: .utf8)
        XCTAssertTrue(record.contains("\"train-linear\""), "the new run records the replayed command, not rerun")
        // run.json records the settings the run used; the rerun used the same.
        var expected = LinearProbeSettings()
        (expected.epochs, expected.iterationsPerEpoch, expected.batchSize, expected.learningRates) = (2, 10, 8, [0.01, 0.1])
        XCTAssertEqual(try RecordedRun(path: dir.path + "/runs/a/run.json").settings(as: LinearProbeSettings.self), expected)
        XCTAssertEqual(try RecordedRun(path: dir.path + "/runs/b/run.json").settings(as: LinearProbeSettings.self), expected)

        // A record whose command line lacks an option (a default a later release changed) gets it pinned.
        let path = dir.path + "/runs/a/run.json"
        let edited = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"--epochs\",\n    \"2\",\n    ", with: "")
        XCTAssertNotEqual(edited, try String(contentsOfFile: path, encoding: .utf8), "the test edits the recorded command line")
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let dry = try CLI.run(["rerun", path, "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("--epochs 2"), dry.stdout)
        XCTAssertFalse(dry.stdout.contains("--out"), "the recorded --out is not replayed: \(dry.stdout)")
    }

    func testARecordThatIsNotARunRecordIsRefusedByName() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.json").path
        try Data("{\"command\": [\"dinoprobe\"]}".utf8).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["rerun", path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not a dinoprobe run record"), r.stderr)
    }
}
