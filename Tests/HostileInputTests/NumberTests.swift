import Foundation
import Heads
import SafeTensors
import Support
import TestSupport
import Training
import XCTest

/// Class 5: NaN and infinity are refused where they enter, every number option has a range
/// checked before work starts, and a diverging run saves nothing.
final class NumberTests: HostileTestCase {
    func testOptionValuesAreValidatedBeforeAnyWork() throws {
        let model = ["--model", CLI.tinyModel]
        let data = ["--data", temp + "/nowhere"]
        let cases: [([String], String)] = [
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--mean", "nan,0.4,0.4"], "--mean is nan"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--std", "0.2,0,0.2"], "--std is 0.0"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--std", "inf,1,1"], "--std is inf"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--size", "0"], "--size is 0"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--max-pixels=-5"], "--max-pixels is -5"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--batch-size", "0"], "--extract-batch-size is 0"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--threads", "100000"], "--threads is 100000"),
            (["extract"] + model + ["--images", CLI.fixtureImages, "--out", temp + "/x", "--layers", "9223372036854775807"], "--blocks is 9223372036854775807"),
            (["train-linear"] + model + data + ["--lrs", "nan"], "--lrs is nan"),
            (["train-linear"] + model + data + ["--lrs", "0.1", "1e39"], "--lrs is inf"),
            (["train-linear"] + model + data + ["--weight-decay", "inf"], "--weight-decay is inf"),
            (["train-linear"] + model + data + ["--warmup-epochs", "nan"], "--warmup-epochs is nan"),
            (["train-linear"] + model + data + ["--epochs", "9223372036854775807"], "--epochs is"),
            (["train-linear"] + model + data + ["--iters-per-epoch=-1"], "--iters-per-epoch is -1"),
            (["train-linear"] + model + data + ["--holdout", "nan"], "--holdout is nan"),
            (["train-seg"] + model + data + ["--lr", "inf"], "--lr is inf"),
            (["train-seg"] + model + data + ["--iters", "0"], "--iters is 0"),
            (["train-seg"] + model + data + ["--resolution", "100"], "--size is 100"),
            (["knn"] + model + data + ["--k", "0"], "--k is 0"),
            (["knn"] + model + data + ["--temperature", "nan"], "--temperature is nan"),
            (["segment", CLI.fixtureImages + "/rgb_300x200.jpg"] + model + ["--clusters", "1000"], "--clusters is 1000"),
            (["synth", "classification", "--out", temp + "/s", "--count", "99999999"], "--count is 99999999"),
            (["bench", "--batch-sizes", "1,999999"], "--batch-sizes is 999999"),
            (["bench", "--shapes", "512x8,100x1"], "--shapes is 100"),
            (["bench", "--shapes", "512x8x2"], "--shapes takes SIZExBATCH pairs such as 512x8, not '512x8x2'"),
            (["bench", "--shapes", "512x8,512x8"], "a size and batch is named twice"),
        ]
        for (arguments, fragment) in cases {
            let r = try CLI.run(arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(fragment), "\(arguments.joined(separator: " ")): expected '\(fragment)' in \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("model:"), "the model was loaded before the option was checked")
        }
    }

    /// A features file as `dinoprobe extract` writes it, with chosen values.
    func featuresFile(_ name: String, values: (Int) -> Float, rows: Int = 12, dim: Int = 4) throws -> String {
        let paths = (0..<rows).map { "/data/train/class\($0 % 2)/img\($0).jpg" }
        var writer = SafeTensorsWriter(metadata: [
            "format": "dinoprobe-features-v1", "model": "m", "backbone_fingerprint": "f", "preset": "hf", "size": "224",
            "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225", "layers": "1",
            "paths": String(decoding: try JSONEncoder().encode(paths), as: UTF8.self),
        ])
        try writer.add("cls", floats: (0..<(rows * dim)).map(values), shape: [rows, dim])
        try writer.add("mean_patch", floats: (0..<(rows * dim)).map(values), shape: [rows, dim])
        let path = temp + "/" + name
        try writer.write(to: path)
        return path
    }

    func testNaNInAFeaturesFileIsRefused() throws {
        let path = try featuresFile("nan.safetensors") { $0 == 5 ? .nan : Float($0) }
        assertRefused(try FeaturesFile.read(path: path), ["'cls'", "NaN or infinite"])
    }

    func testADivergingGridSavesNothing() throws {
        // Features of 1e30: every learning rate overflows the logits at once.
        let train = try featuresFile("huge.safetensors") { Float(($0 % 3) + 1) * 1e30 * ($0 % 2 == 0 ? 1 : -1) }
        let out = temp + "/run"
        let r = try CLI.run(["train-linear", "--features-file", train, "--val-features-file", train, "--out", out,
                             "--epochs", "2", "--iters-per-epoch", "5", "--batch-size", "4"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("diverged"), r.stderr)
        XCTAssertTrue(r.stderr.contains("nothing was saved"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/head.safetensors"))
    }

    func testDivergedHeadsAreNeverChosen() throws {
        // Features of 1e18: a rate of 1e10 overflows the logits within a step or two, 1e-10 does
        // not; the winner is the finite one.
        var rows: [Float] = []
        var labels: [Int] = []
        for i in 0..<40 {
            let label = i % 2
            rows += [Float(label == 0 ? 1 : -1) * 1e18, 1e18, Float(i % 5) * 1e17, -1e18]
            labels.append(label)
        }
        let data = LabelledFeatures(values: rows, labels: labels, width: 4)
        var settings = LinearProbeSettings()
        settings.learningRates = [1e-10, 1e10]
        settings.epochs = 3
        settings.iterationsPerEpoch = 20
        settings.batchSize = 8
        let (grid, result, _) = try LinearProbe.train(data, selection: data, classes: 2, settings: settings,
                                                   metadata: HeadMetadata(kind: .classifier, classNames: ["a", "b"]))
        XCTAssertNotNil(result.divergedAtStep[1], "the 1e10 head should diverge")
        XCTAssertNil(result.divergedAtStep[0], "the 1e-10 head should not")
        XCTAssertEqual(result.bestIndex, 0)
        XCTAssertTrue(try grid.head(at: result.bestIndex).weight.allSatisfy(\.isFinite))
        XCTAssertTrue(LinearProbe.table(result).contains("diverged at step"))
    }

    func testANaNHeadIsNeverWritten() throws {
        var head = try LinearClassifier(dim: 3, classes: 2, metadata: HeadMetadata(kind: .classifier, classNames: ["a", "b"]))
        head.weight[2] = .nan
        let path = temp + "/head.safetensors"
        assertRefused(try head.save(to: path), ["NaN or infinite", "not saved"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
