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
        for file in ["head.safetensors", "metrics.json", "confusion.csv", "confusion.png", "grid.json", "skipped-train.txt",
                     "train_log.csv", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + file), file)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/checkpoint.safetensors"), "a finished run keeps no checkpoint")
        // Every file the run left is said and recorded, the skipped list, the report and run.json included.
        let said = try XCTUnwrap(train.stdout.split(separator: "\n").first { $0.hasPrefix("wrote ") }, train.stdout)
        let runJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/run.json"))) as? [String: Any]
        let recorded = try XCTUnwrap(runJSON?["outputs"] as? [String])
        for file in ["head.safetensors", "predictions.csv", "loss_curves.png", "skipped-train.txt", "report.html", "run.json"] {
            XCTAssertTrue(said.contains(file), "\(file): \(said)")
            XCTAssertTrue(recorded.contains(file), "\(file): \(recorded)")
        }
        XCTAssertEqual(Set(recorded), Set(try FileManager.default.contentsOfDirectory(atPath: run).filter { !$0.hasPrefix(".") }))
        let page = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        XCTAssertTrue(page.contains("Skipped inputs") && page.contains("train: 1 input skipped") && page.contains("zz_broken.png"), "the report names the skipped image")
        try checkRunRecord(run + "/run.json", command: "train-linear", options: ["epochs": 4, "iters-per-epoch": 50, "batch-size": 16,
                                                                                  "tokens": "cls+avgpool", "blocks": 1, "seed": 0],
                           outputs: ["head.safetensors", "train_log.csv"], dataRoot: data)
        // train_log.csv: one row per step and learning rate (4 x 50 steps x 13 rates).
        let log = try String(contentsOfFile: run + "/train_log.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.first, "step,series,learning_rate,loss")
        XCTAssertEqual(log.count, 1 + 200 * 13)
        XCTAssertTrue(log[1].hasPrefix("1,1e-05,"), String(log[1]))
        XCTAssertTrue(train.stdout.contains("<- best"), train.stdout)
        let grid = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/grid.json"))) as! [String: Any]
        let scores = (grid["grid"] as? [String: Any])?["selection_accuracy"] as? [Double]
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
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/run.json"))) as! [String: Any]
        XCTAssertEqual(try LinearClassifier.load(from: run + "/head.safetensors").metadata.extra["run_id"], record["run_id"] as? String,
                       "the head points back to its run record")

        // eval-linear reproduces the val top-1; the second run reads features from the cache.
        let evalOut = dir.appendingPathComponent("eval").path
        let eval = try CLI.run(["eval-linear", "--model", CLI.tinyModel, "--data", data, "--cache-dir", cache,
                                "--head", run + "/head.safetensors", "--out", evalOut])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stderr.contains("from the cache"), eval.stderr)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: evalOut + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(again["top1"] as? Double ?? -1, top1, accuracy: 1e-12)
        // predictions.csv: one row per val image; its correct column gives the same top-1.
        let predictions = try String(contentsOfFile: evalOut + "/predictions.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(predictions.first, "path,true_label,correct,pred_1,prob_1,pred_2,prob_2,pred_3,prob_3,pred_4,prob_4")
        XCTAssertEqual(predictions.count, 1 + 24)
        let correct = predictions.dropFirst().filter { $0.split(separator: ",")[2] == "true" }.count
        XCTAssertEqual(Double(correct) / 24, top1, accuracy: 1e-12)
        try checkRunRecord(evalOut + "/run.json", command: "eval-linear", options: ["split": "val"], outputs: ["predictions.csv"], dataRoot: data)

        // classify prints the classes with probabilities; a bad file makes the exit code non-zero.
        let image = try FileManager.default.contentsOfDirectory(atPath: data + "/val/\(firstClass)").sorted().first!
        let classify = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", run + "/head.safetensors",
                                    data + "/val/\(firstClass)/\(image)"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertEqual(classify.stdout.split(separator: "\n").count, 5)  // path + 4 classes
        let bad = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", data + "/train/\(firstClass)/zz_broken.png"])
        XCTAssertNotEqual(bad.status, 0)
        // classify takes folders (recursively) and writes predictions.csv with --out.
        let classifyOut = dir.appendingPathComponent("classified").path
        let folders = try CLI.run(["classify", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", data + "/val", "--out", classifyOut])
        XCTAssertEqual(folders.status, 0, folders.stderr)
        let classified = try String(contentsOfFile: classifyOut + "/predictions.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(classified.count, 1 + 24)
        XCTAssertTrue(classified[1].hasPrefix(data + "/val/"), String(classified[1]))

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
        let knnOut = dir.appendingPathComponent("knn").path
        let knn = try CLI.run(["knn", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--cache-dir", cache, "--k", "5", "10",
                               "--out", knnOut])
        XCTAssertEqual(knn.status, 0, knn.stderr)
        XCTAssertTrue(knn.stdout.contains("top-1"), knn.stdout)
        for k in [5, 10] {
            let rows = try String(contentsOfFile: knnOut + "/predictions-k\(k).csv", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(rows.count, 1 + 24, "k \(k)")
        }
        try checkRunRecord(knnOut + "/run.json", command: "knn", options: ["k": [5, 10], "temperature": 0.07], outputs: ["knn.json"], dataRoot: data)
    }

    /// run.json names the tool, the command line, every option's resolved value, the backbone,
    /// the data and the seeds, and lists the outputs of a finished run.
    func checkRunRecord(_ path: String, command: String, options expected: [String: Any], outputs: [String], dataRoot: String) throws {
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let tool = try XCTUnwrap(record["tool"] as? [String: Any])
        XCTAssertEqual(tool["version"] as? String, "0.1.0")
        XCTAssertNotNil((tool["commit"] as? String).flatMap { $0.count >= 7 ? $0 : nil }, "\(tool)")
        XCTAssertEqual((record["command"] as? [String])?.dropFirst().first, command)
        XCTAssertEqual(record["status"] as? String, "finished")
        for key in ["started_at", "finished_at", "run_id", "host", "working_directory"] { XCTAssertNotNil(record[key], key) }
        let host = try XCTUnwrap(record["host"] as? [String: Any])
        XCTAssertGreaterThan(host["logical_cpus"] as? Int ?? 0, 0)
        let backbone = try XCTUnwrap(record["backbone"] as? [String: Any])
        XCTAssertEqual((backbone["fingerprint"] as? String)?.count, 16)
        XCTAssertEqual(backbone["precision"] as? String, "f32")
        XCTAssertEqual(backbone["device"] as? String, "cpu")
        XCTAssertNotNil(backbone["threads"] as? Int)
        let data = try XCTUnwrap(record["data"] as? [String: Any])
        XCTAssertEqual(data["root"] as? String, dataRoot)
        let splits = try XCTUnwrap(data["splits"] as? [String: [String: Any]])
        XCTAssertTrue(splits.values.allSatisfy { ($0["fingerprint"] as? String)?.count == 16 && ($0["files"] as? Int ?? 0) > 0 }, "\(splits)")
        let options = try XCTUnwrap(record["options"] as? [String: Any])
        for key in ["model", "threads", "precision", "device"] { XCTAssertNotNil(options[key], "option \(key) is recorded") }
        for (key, value) in expected {
            XCTAssertEqual(options[key].map { "\($0)" }, "\(value)", "option \(key)")
        }
        XCTAssertFalse(options.keys.contains { $0.hasPrefix("deprecated") })
        let written = try XCTUnwrap(record["outputs"] as? [String])
        for file in outputs + ["run.json"] { XCTAssertTrue(written.contains(file), "\(file) in \(written)") }
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

    func testFewShotScoresEveryShotCountAndTry() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 3, perClass: 8, valPerClass: 3, size: 32, seed: 9)
        let out = dir.appendingPathComponent("fewshot").path
        let r = try CLI.run(["fewshot", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--shots", "1,2", "--tries", "2",
                             "--iters", "20", "--k", "3", "--no-cache", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let scores = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/fewshot.json"))) as? [[String: Any]])
        XCTAssertEqual(scores.map { $0["method"] as? String ?? "" }, ["linear", "logreg", "knn k=3", "linear", "logreg", "knn k=3"])
        XCTAssertEqual(scores.map { $0["shots"] as? Double ?? 0 }, [1, 1, 1, 2, 2, 2])
        for s in scores {
            let tries = s["top1"] as? [Double] ?? []
            XCTAssertEqual(tries.count, 2)
            XCTAssertEqual(s["mean"] as? Double ?? -1, tries.reduce(0, +) / 2, accuracy: 1e-12)
        }
        XCTAssertTrue(r.stdout.contains("± "), r.stdout)
        // The table's columns line up whatever the method's name.
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("linear") || $0.hasPrefix("logreg") || $0.hasPrefix("knn") }
        XCTAssertEqual(rows.count, 6, r.stdout)
        XCTAssertEqual(Set(rows.map { row in row.firstIndex(of: "%").map { row.distance(from: row.startIndex, to: $0) } ?? -1 }).count, 1, r.stdout)
        let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(report.contains("<td>1, 2</td>") && !report.contains("1.0, 2.0"), "shots as integers")
        let without = try CLI.run(["fewshot", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--shots", "1", "--tries", "1",
                                   "--iters", "5", "--k", "3", "--no-cache", "--no-logreg", "--out", out + "-2"])
        XCTAssertEqual(without.status, 0, without.stderr)
        XCTAssertFalse(without.stdout.contains("logreg"), without.stdout)
    }

    /// train-linear, train-logreg, fewshot and knn under a scheduler: each shard caches its part of
    /// the features and stops; the run without a shard joins them and trains as one process would.
    func testShardedCachingThenOneRunEqualsASingleProcess() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 2, perClass: 12, valPerClass: 4, size: 32, seed: 6)
        let cache = dir.appendingPathComponent("cache").path
        func linear(_ extra: [String], env: [String: String] = [:], out: String = "run") throws -> CLI.Result {
            try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--epochs", "1", "--iters-per-epoch", "20",
                         "--extract-batch-size", "4", "--overwrite", "--out", dir.appendingPathComponent(out).path] + extra, environment: env)
        }
        // A Slurm array of 3 (task ids 5..7): each task extracts a third and stops without a run folder.
        for task in 5...7 {
            let r = try linear(["--cache-dir", cache], env: ["SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_MAX": "7"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("shard \(task - 5)/3 (from SLURM_ARRAY_TASK_ID) of train"), r.stdout)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path))
        }
        let joined = try linear(["--cache-dir", cache])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertTrue(joined.stderr.contains("extract train: 24 of 24 images already extracted in parts"), "every image came from the shards: \(joined.stderr)")
        let single = try linear(["--no-cache"], out: "single")
        XCTAssertEqual(single.status, 0, single.stderr)
        func losses(_ run: String) throws -> [Double] {
            let grid = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(run + "/grid.json"))) as? [String: Any]
            return try XCTUnwrap((grid?["grid"] as? [String: Any])?["final_losses"] as? [Double])
        }
        XCTAssertEqual(try losses("run"), try losses("single"), "the joined features train exactly as one process's")
        // knn and train-logreg shard the same way; --no-cache has nowhere to put the parts.
        let other = dir.appendingPathComponent("cache2").path
        for i in 0..<2 {
            let r = try CLI.run(["knn", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--extract-batch-size", "4", "--cache-dir", other,
                                 "--shard", "\(i)/2"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let knn = try CLI.run(["knn", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--extract-batch-size", "4", "--cache-dir", other])
        XCTAssertEqual(knn.status, 0, knn.stderr)
        XCTAssertTrue(knn.stderr.contains("extract train: 24 of 24 images already extracted in parts"), knn.stderr)
        let refused = try CLI.run(["train-logreg", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--no-cache", "--shard", "0/2",
                                   "--out", dir.appendingPathComponent("x").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--no-cache"), refused.stderr)
    }

    func testAugmentedViewsTrainTheHeadsAndAreCached() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 2, perClass: 10, valPerClass: 3, size: 40, seed: 4)
        let cache = dir.appendingPathComponent("cache").path
        let args = ["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--augment", "3", "--epochs", "1",
                    "--iters-per-epoch", "10", "--cache-dir", cache, "--overwrite", "--out", dir.appendingPathComponent("run").path]
        let first = try CLI.run(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("augmented: 3 views per training image"), first.stdout)
        let grid = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/grid.json"))) as? [String: Any])
        XCTAssertEqual(grid["train_samples"] as? Int, 18 * 3, "9 kept images per class, 3 views each")
        XCTAssertEqual(grid["selection_samples"] as? Int, 2)
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/run.json"))) as? [String: Any])
        XCTAssertNotNil((record["notes"] as? [String: String])?["augmentation"])
        let second = try CLI.run(args)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("augmented views from the cache"), second.stderr)
        let again = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/grid.json"))) as? [String: Any])
        XCTAssertEqual((again["grid"] as? [String: Any])?["final_losses"] as? [Double], (grid["grid"] as? [String: Any])?["final_losses"] as? [Double],
                       "cached views give the same run")
        let refused = try CLI.run(["train-linear", "--features-file", "x", "--val-features-file", "y", "--augment", "2"])
        XCTAssertNotEqual(refused.status, 0)
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

    func testTheCustomHeadExampleTrainsACosineClassifierThroughTheSharedLoop() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 3, perClass: 12, valPerClass: 4, size: 48, seed: 5)
        for split in ["train", "val"] {
            let r = try CLI.run(["extract", data + "/" + split, "--model", CLI.tinyModel, "--out", dir.appendingPathComponent("\(split).safetensors").path])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let example = try BuiltProduct.checked("custom-head")
        let process = Process()
        process.executableURL = example
        process.arguments = ["train", "val", "head"].map { dir.appendingPathComponent("\($0).safetensors").path }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        // The synthetic shapes are separable on the tiny model's CLS: the head must have learned them.
        let accuracy = try XCTUnwrap(text.split(separator: " ").firstIndex(of: "top-1").map { Double(text.split(separator: " ")[$0 + 1].dropLast()) } ?? nil)
        XCTAssertGreaterThan(accuracy, 60, text)
        let state = try TrainingState.read(from: dir.appendingPathComponent("head.safetensors").path)
        XCTAssertEqual(state.floats["head.weight"]?.count, 3 * 48, text)
    }
}
