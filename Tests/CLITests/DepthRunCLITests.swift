import Foundation
import Images
import SafeTensors
import TestSupport
import Training
import XCTest

/// `train-depth` on a generated NYU-layout set with the tiny model: every file, a head that beats
/// predicting one depth everywhere, `eval-depth --head` repeating its metrics, `depth` writing
/// PNGs whose millimetres score as the run does, a killed run resumed bit for bit, refusals.
final class DepthRunCLITests: XCTestCase {
    func metrics(_ path: String) throws -> [String: Double] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return try XCTUnwrap(json?["metrics"] as? [String: Double], path)
    }

    /// The rmse of predicting the train split's mean depth for every pixel of val (Meta's NYU evaluation).
    func constantDepthRMSE(_ data: String) throws -> Double {
        let train = try DepthDataset.load(root: data, split: .train), val = try DepthDataset.load(root: data, split: .val)
        let depths = try train.samples.flatMap { try train.loadDepth($0).values.filter { $0 > 0 } }
        let mean = depths.reduce(0, +) / Float(depths.count)
        var constant = DepthMetrics()
        for sample in val.samples {
            let truth = try val.loadDepth(sample)
            constant.update((name: sample.image, scores: try DepthEvaluation.nyu.scores(prediction: [Float](repeating: mean, count: truth.values.count), truth: truth)))
        }
        return try XCTUnwrap(constant.finish().metrics["rmse"])
    }

    /// `depth` on val's images with `head`: its PNGs, their millimetres scored as the run scored, refusals.
    func checkDepthCommand(head: String, val: DepthDataset, scores: [String: Double], temp: URL) throws {
        // depth: two PNGs per image; the 16-bit millimetres, scored against the truth, give the run's metrics.
        let out = temp.appendingPathComponent("pred").path
        let images = val.root + "/synth_val_0"
        let predicted = try CLI.run(["depth", "--model", CLI.tinyModel, "--head", head, images, "--out", out], in: temp)
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let written = try FileManager.default.subpathsOfDirectory(atPath: out)
        let pred = temp.appendingPathComponent("mm").path
        try FileManager.default.createDirectory(atPath: pred, withIntermediateDirectories: true)
        for (i, sample) in val.samples.enumerated() {
            let stem = "nyu/synth_val_0/rgb_" + String(format: "%05d", i)
            XCTAssertTrue(written.contains(stem + ".depth.png") && written.contains(stem + ".depth16.png"), "\(written)")
            let colours = try ImageDecoder.decode(path: out + "/" + stem + ".depth.png")
            XCTAssertEqual([colours.width, colours.height], [64, 48])
            try FileManager.default.copyItem(atPath: out + "/" + stem + ".depth16.png", toPath: pred + "/" + (sample.depth as NSString).lastPathComponent)
        }
        let compared = try CLI.run(["eval-depth", "--pred", pred, "--gt", images, "--out", temp.appendingPathComponent("cmp").path])
        XCTAssertEqual(compared.status, 0, compared.stderr)
        let fromPNG = try metrics(temp.appendingPathComponent("cmp/metrics.json").path)
        for name in ["rmse", "mae", "abs_rel"] { XCTAssertEqual(fromPNG[name] ?? .nan, scores[name] ?? 0, accuracy: 2e-3, name) }
        // Outputs are not replaced without --overwrite, before any work.
        let again = try CLI.run(["depth", "--model", CLI.tinyModel, "--head", head, images, "--out", out], in: temp)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--overwrite"), again.stderr)
        XCTAssertEqual(try CLI.run(["depth", "--model", CLI.tinyModel, "--head", head, images, "--out", out, "--overwrite"], in: temp).status, 0)
        // A broken image is named and fails the command; the others are still written.
        let mixed = temp.appendingPathComponent("mixed").path
        try FileManager.default.createDirectory(atPath: mixed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: val.samples[0].image, toPath: mixed + "/good.jpg")
        try Data("not a picture".utf8).write(to: URL(fileURLWithPath: mixed + "/bad.jpg"))
        let partial = try CLI.run(["depth", "--model", CLI.tinyModel, "--head", head, "mixed", "--out", "mixed-out"], in: temp)
        XCTAssertNotEqual(partial.status, 0)
        XCTAssertTrue(partial.stderr.contains("bad.jpg"), partial.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: temp.appendingPathComponent("mixed-out/mixed/good.depth16.png").path))
    }

    func testTrainEvalAndPredictDepth() throws {
        let temp = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: temp) }
        let data = temp.appendingPathComponent("nyu").path, run = temp.appendingPathComponent("run").path
        XCTAssertEqual(try CLI.run(["synth", "depth", "--out", data, "--count", "16", "--width", "64", "--height", "48", "--seed", "1"]).status, 0)
        let trained = try CLI.run(["train-depth", "--model", CLI.tinyModel, "--data", data, "--size", "64", "--iters", "300", "--batch-size", "4",
                                   "--lr", "0.01", "--no-cache", "--out", run])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for file in ["head.safetensors", "metrics.json", "per_image.csv", "train_log.csv", "loss_curves.png", "report.html", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + file), file)
        }
        let scores = try metrics(run + "/metrics.json")
        XCTAssertEqual(Set(scores.keys), Set(DepthScores.names))
        XCTAssertTrue(scores.values.allSatisfy(\.isFinite), "\(scores)")
        // Learnt something: rmse well below one constant depth (the train mean) for every pixel.
        let val = try DepthDataset.load(root: data, split: .val)
        let baseline = try constantDepthRMSE(data)
        XCTAssertLessThan(try XCTUnwrap(scores["rmse"]), 0.5 * baseline)
        let report = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        XCTAssertTrue(report.contains("colour bar") && report.contains("ground truth"), "report without its samples")
        XCTAssertLessThan(try XCTUnwrap(report.range(of: "rmse")).lowerBound, try XCTUnwrap(report.range(of: "command")).lowerBound, "metrics first")

        // eval-depth --head on the saved head repeats the run's metrics exactly.
        let evalOut = temp.appendingPathComponent("eval").path
        let evaluated = try CLI.run(["eval-depth", "--model", CLI.tinyModel, "--head", run + "/head.safetensors", "--data", data, "--out", evalOut])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertEqual(try metrics(evalOut + "/metrics.json"), scores)
        let record = try String(contentsOfFile: evalOut + "/run.json", encoding: .utf8)
        XCTAssertTrue(record.contains("crop, depth in (") && record.contains("flip TTA true"), "run.json without its evaluation note")

        try checkDepthCommand(head: run + "/head.safetensors", val: val, scores: scores, temp: temp)
    }

    func testKilledTrainDepthRunResumesBitForBit() throws {
        let temp = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: temp) }
        let data = temp.appendingPathComponent("nyu").path, cache = temp.appendingPathComponent("cache").path
        XCTAssertEqual(try CLI.run(["synth", "depth", "--out", data, "--count", "12", "--width", "48", "--height", "32"]).status, 0)
        func args(_ out: String) -> [String] {
            ["train-depth", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--iters", "600", "--batch-size", "4", "--augment", "2",
             "--cache-dir", cache, "--out", out, "--checkpoint-every", "0"]
        }
        let whole = temp.appendingPathComponent("whole").path, broken = temp.appendingPathComponent("broken").path
        let uninterrupted = try CLI.run(args(whole))
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)
        XCTAssertTrue(try CLI.killAfterCheckpoint(args(broken), checkpoint: broken + "/checkpoint.safetensors"), "the run finished before it could be killed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: broken + "/head.safetensors"))
        let refused = try CLI.run(args(broken))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--resume"), refused.stderr)
        let resumed = try CLI.run(args(broken) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from step"), resumed.stderr)
        let a = try SafeTensorsFile(path: whole + "/head.safetensors"), b = try SafeTensorsFile(path: broken + "/head.safetensors")
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        for name in a.tensors.keys {
            XCTAssertEqual(try a.withBytes(of: name) { Data($0) }, try b.withBytes(of: name) { Data($0) }, "tensor \(name) differs after resuming")
        }
        for file in ["train_log.csv", "metrics.json"] {
            XCTAssertEqual(FileManager.default.contents(atPath: whole + "/" + file), FileManager.default.contents(atPath: broken + "/" + file), file)
        }
    }

    func testRefusalsComeBeforeAnyWork() throws {
        let temp = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: temp) }
        let data = temp.appendingPathComponent("nyu").path, out = temp.appendingPathComponent("run").path
        XCTAssertEqual(try CLI.run(["synth", "depth", "--out", data, "--count", "4", "--width", "32", "--height", "32"]).status, 0)
        let cases: [([String], String)] = [
            (["--depth-scale", "0"], "--depth-scale"), (["--depth-scale", "-5"], "--depth-scale"),
            (["--min-depth", "5", "--max-depth", "2"], "--min-depth"), (["--min-depth", "0"], "--min-depth"),
        ]
        for (extra, flag) in cases {
            let r = try CLI.run(["train-depth", "--model", "/nonexistent-model", "--data", data, "--out", out] + extra)
            XCTAssertNotEqual(r.status, 0, "\(extra)")
            XCTAssertTrue(r.stderr.contains(flag), "\(extra): \(r.stderr)")
        }
        let missing = try CLI.run(["train-depth", "--model", "/nonexistent-model", "--data", temp.appendingPathComponent("none").path, "--out", out])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("is not a folder"), missing.stderr)
        // depth refuses a file that is not a depth head before any work.
        let garbage = temp.appendingPathComponent("garbage.safetensors").path
        try Data("not a head".utf8).write(to: URL(fileURLWithPath: garbage))
        let notAHead = try CLI.run(["depth", "--model", "/nonexistent-model", "--head", garbage, data, "--out", out])
        XCTAssertNotEqual(notAHead.status, 0)
        XCTAssertTrue(notAHead.stderr.contains("garbage.safetensors"), notAHead.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused run left a folder")
    }
}
