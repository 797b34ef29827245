import Datasets
import Foundation
import Heads
import TestSupport
import XCTest

/// train-logreg on a generated ImageFolder with the committed tiny checkpoint, then eval-linear on its head.
final class LogregCLITests: XCTestCase {
    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testTrainLogregWritesItsReportsAndAHeadEvalLinearReads() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 4, perClass: 16, valPerClass: 6, size: 48, seed: 2)
        let run = dir.appendingPathComponent("run").path, cache = dir.appendingPathComponent("cache").path
        let common = ["--model", CLI.tinyModel, "--data", data, "--size", "64", "--cache-dir", cache]
        let train = try CLI.run(["train-logreg"] + common + ["--out", run])
        XCTAssertEqual(train.status, 0, train.stderr)
        for file in ["head.safetensors", "metrics.json", "confusion.csv", "confusion.png", "predictions.csv", "path.json", "run.json", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + file), file)
        }
        XCTAssertTrue(train.stdout.contains("<- best"), train.stdout)
        XCTAssertTrue(train.stdout.contains("refit on all"), train.stdout)

        // path.json: Meta's 45 values of C, each scored on the hold-out, and the chosen one.
        let path = try json(run + "/path.json")
        XCTAssertEqual(path["protocol"] as? String, "logreg")
        let points = try XCTUnwrap((path["path"] as? [String: Any])?["points"] as? [[String: Any]])
        XCTAssertEqual(points.count, 45)
        XCTAssertEqual(points.first?["c"] as? Double ?? 0, 1e-6, accuracy: 1e-12)
        XCTAssertNotNil(path["refit"] as? [String: Any], "C chosen on the hold-out is refitted on all of train")
        let chosen = try XCTUnwrap(path["chosen_c"] as? Double)

        // The head is a plain classifier on CLS features, recording the protocol and C.
        let head = try LinearClassifier.load(from: run + "/head.safetensors")
        XCTAssertEqual(head.metadata.extra["protocol"], "logreg")
        XCTAssertEqual(head.metadata.extra["C"].flatMap(Double.init), chosen)
        XCTAssertEqual(try head.metadata.recipe().tokens, .cls, "Meta's protocol uses the CLS token")
        let record = try json(run + "/run.json")
        XCTAssertEqual(record["status"] as? String, "finished")
        XCTAssertEqual((record["options"] as? [String: Any])?["tokens"] as? String, "cls")
        XCTAssertEqual((record["outputs"] as? [String])?.contains("path.json"), true)

        // eval-linear reproduces the val top-1 from the head alone.
        let top1 = try XCTUnwrap(try json(run + "/metrics.json")["top1"] as? Double)
        XCTAssertGreaterThan(top1, 0.5, train.stdout)
        let evalOut = dir.appendingPathComponent("eval").path
        let eval = try CLI.run(["eval-linear", "--model", CLI.tinyModel, "--data", data, "--cache-dir", cache,
                                "--head", run + "/head.safetensors", "--out", evalOut])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual(try json(evalOut + "/metrics.json")["top1"] as? Double ?? -1, top1, accuracy: 1e-12)
        let predictions = try String(contentsOfFile: run + "/predictions.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(predictions.count, 1 + 24)

        // Choosing on val: no refit (the path was fitted on all of train); --resume is refused.
        let valRun = dir.appendingPathComponent("val").path
        let onVal = try CLI.run(["train-logreg"] + common + ["--select-on", "val", "--cs", "0.01,1,100", "--out", valRun])
        XCTAssertEqual(onVal.status, 0, onVal.stderr)
        let valPath = try json(valRun + "/path.json")
        XCTAssertNil(valPath["refit"] as? [String: Any])
        XCTAssertEqual(((valPath["path"] as? [String: Any])?["points"] as? [Any])?.count, 3)
        let resumed = try CLI.run(["train-logreg"] + common + ["--out", valRun, "--resume"])
        XCTAssertNotEqual(resumed.status, 0)
        XCTAssertTrue(resumed.stderr.contains("resume"), resumed.stderr)
        let bad = try CLI.run(["train-logreg"] + common + ["--cs", "0", "--out", dir.appendingPathComponent("bad").path])
        XCTAssertNotEqual(bad.status, 0)
    }
}
