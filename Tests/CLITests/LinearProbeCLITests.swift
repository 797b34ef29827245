import Foundation
import TestSupport
import Heads
import SafeTensors
import Datasets
import Training
import XCTest

/// train-linear -> eval-linear -> classify on a generated ImageFolder with the committed tiny checkpoint.
final class LinearProbeCLITests: XCTestCase {
    func testTrainEvaluateClassifyAndReuseTheCache() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 4, perClass: 16, valPerClass: 6, size: 48, seed: 2)
        // One unreadable file: skipped and reported, not fatal.
        let firstClass = try FileManager.default.contentsOfDirectory(atPath: data + "/train").sorted().first!
        try Data("broken".utf8).write(to: URL(fileURLWithPath: data + "/train/\(firstClass)/zz_broken.png"))
        let run = dir.appendingPathComponent("run").path, cache = dir.appendingPathComponent("cache").path
        let common = ["--model", CLI.tinyModel, "--data", data, "--size", "64", "--cache-dir", cache]
        let train = try CLI.run(["train-linear"] + common + ["--epochs", "4", "--iters-per-epoch", "50", "--batch-size", "16", "--out", run])
        XCTAssertEqual(train.status, 0, train.stderr)
        for file in ["head.safetensors", "metrics.json", "confusion.csv", "confusion.png", "grid.json", "skipped-train.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + file), file)
        }
        XCTAssertTrue(train.stdout.contains("<- best"), train.stdout)
        let grid = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/grid.json"))) as! [String: Any]
        let scores = (grid["grid"] as? [String: Any])?["selectionAccuracy"] as? [Double]
        XCTAssertEqual(scores?.count, 13, "every one of Meta's 13 rates is reported")
        XCTAssertTrue(train.stderr.contains("zz_broken.png"), train.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json"))) as! [String: Any]
        let top1 = try XCTUnwrap(metrics["top1"] as? Double)
        XCTAssertGreaterThan(top1, 0.9, train.stdout)

        // The head is a plain nn.Linear state dict with the recipe in its metadata.
        let head = try SafeTensorsFile(path: run + "/head.safetensors")
        XCTAssertEqual(head.tensors["weight"]?.shape, [4, 96])
        XCTAssertEqual(head.tensors["bias"]?.shape, [4])
        XCTAssertTrue(head.metadata.values.contains { $0.contains("cls+avgpool") })

        // eval-linear reproduces the val top-1; the second run reads features from the cache.
        let evalOut = dir.appendingPathComponent("eval").path
        let eval = try CLI.run(["eval-linear", "--model", CLI.tinyModel, "--data", data, "--cache-dir", cache,
                                "--head", run + "/head.safetensors", "--out", evalOut])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stderr.contains("from the cache"), eval.stderr)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: evalOut + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(again["top1"] as? Double ?? -1, top1, accuracy: 1e-12)

        // classify prints the classes with probabilities; a bad file makes the exit code non-zero.
        let image = try FileManager.default.contentsOfDirectory(atPath: data + "/val/\(firstClass)").sorted().first!
        let classify = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", run + "/head.safetensors",
                                    data + "/val/\(firstClass)/\(image)"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertEqual(classify.stdout.split(separator: "\n").count, 5)  // path + 4 classes
        let bad = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", data + "/train/\(firstClass)/zz_broken.png"])
        XCTAssertNotEqual(bad.status, 0)

        // A second train-linear reuses the cache and refuses to overwrite the first run's head.
        let refused = try CLI.run(["train-linear"] + common + ["--epochs", "1", "--iters-per-epoch", "0", "--out", run])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--overwrite"), refused.stderr)
        let second = try CLI.run(["train-linear"] + common + ["--epochs", "1", "--iters-per-epoch", "0", "--out", run, "--overwrite"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("train: ") && second.stderr.contains("from the cache"), second.stderr)

        // A changed image list invalidates the cache.
        try FileManager.default.removeItem(atPath: data + "/train/\(firstClass)/zz_broken.png")
        let third = try CLI.run(["train-linear"] + common + ["--epochs", "1", "--iters-per-epoch", "0", "--out", run, "--overwrite"])
        XCTAssertEqual(third.status, 0, third.stderr)
        XCTAssertTrue(third.stderr.contains("extract train"), third.stderr)

        // knn on the same cache.
        let knn = try CLI.run(["knn", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--cache-dir", cache, "--k", "5", "10"])
        XCTAssertEqual(knn.status, 0, knn.stderr)
        XCTAssertTrue(knn.stdout.contains("top-1"), knn.stdout)
    }

    func testFeaturesFileFromExtractTrainsAHead() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 3, perClass: 10, valPerClass: 4, size: 32, seed: 5)
        for split in ["train", "val"] {
            let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", data + "/" + split, "--size", "32",
                                 "--out", dir.appendingPathComponent("\(split).safetensors").path])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let r = try CLI.run(["train-linear", "--features-file", dir.appendingPathComponent("train.safetensors").path,
                             "--val-features-file", dir.appendingPathComponent("val.safetensors").path,
                             "--epochs", "5", "--iters-per-epoch", "0", "--batch-size", "8", "--out", dir.appendingPathComponent("run").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("3 classes"), r.stdout)
    }

    func testDataErrorsComeBeforeAnyCompute() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: dir.path + "/d/train/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/d/val/a", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.fixtureImages + "/rgb_small_40x30.png", toPath: dir.path + "/d/train/a/x.png")
        try FileManager.default.copyItem(atPath: CLI.fixtureImages + "/rgb_small_40x30.png", toPath: dir.path + "/d/val/a/x.png")
        let r = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", dir.path + "/d", "--no-cache", "--out", dir.path + "/run"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("at least 2"), r.stderr)
        XCTAssertFalse(r.stderr.contains("extract"), r.stderr)
    }

    func testTheCustomHeadExampleTrainsOnExtractFilesAndClassifyAcceptsItsHead() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 3, perClass: 12, valPerClass: 4, size: 48, seed: 5)
        for split in ["train", "val"] {
            let r = try CLI.run(["extract", data + "/" + split, "--model", CLI.tinyModel, "--out", dir.appendingPathComponent("\(split).safetensors").path])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let example = CLI.executable.deletingLastPathComponent().appendingPathComponent("custom-head")
        let process = Process()
        process.executableURL = example
        process.arguments = ["train", "val", "head"].map { dir.appendingPathComponent("\($0).safetensors").path }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("<- best"), text)
        let image = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: data + "/val/class_1").sorted().first)
        let classify = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", dir.appendingPathComponent("head.safetensors").path,
                                    data + "/val/class_1/" + image])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertTrue(classify.stdout.contains("class_1"), classify.stdout)
    }
}
