import Foundation
import Heads
import SafeTensors
import TestSupport
import XCTest

/// `dinoprobe extract --stages`: a ConvNeXt's raw stage maps in the features file.
final class ExtractCLIStageTests: XCTestCase {
    let model = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/models/convnext_a").path
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// The fixture images in two class folders (so the file reads as classification features),
    /// and one unreadable file.
    func makeImages() throws -> String {
        let root = path("images")
        let names = try FileManager.default.contentsOfDirectory(atPath: CLI.fixtureImages).sorted()
        for (i, name) in names.enumerated() {
            let folder = root + (i < 6 ? "/a" : "/b")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: CLI.fixtureImages + "/" + name, toPath: folder + "/" + name)
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: root + "/b/zz_bad.jpg"))
        return root
    }

    /// Shapes and metadata; the last stage's map, normed per position, is the patch tokens and,
    /// pooled then normed, the CLS (so it is the raw map before the final norm, laid out NCHW).
    func testStageMapsAreWrittenAsTheRawMaps() throws {
        let images = try makeImages(), out = path("f.safetensors")
        let r = try CLI.run(["extract", "--model", model, images, "--out", out, "--size", "64", "--patch-tokens",
                             "--stages", "0,1,2,3", "--extract-batch-size", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("11 images x 48 features + patch tokens + stage maps 0,1,2,3, 1 skipped"), r.stdout)
        let file = try SafeTensorsFile(path: out)
        XCTAssertEqual((0..<4).map { file.tensors["stage_\($0)"]?.shape ?? [] }, [[11, 16, 16, 16], [11, 24, 8, 8], [11, 32, 4, 4], [11, 48, 2, 2]])
        XCTAssertEqual(file.metadata["stages"], "0,1,2,3")
        XCTAssertEqual(file.tensors["patch_tokens"]?.shape, [11, 2, 2, 48])

        let weights = try SafeTensorsFile(path: model + "/model.safetensors")
        let (gain, bias) = (try weights.floats("layer_norm.weight"), try weights.floats("layer_norm.bias"))
        func norm(_ x: [Float]) -> [Float] {
            let mean = x.reduce(0, +) / Float(x.count)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(x.count)
            return x.indices.map { (x[$0] - mean) / (variance + 1e-6).squareRoot() * gain[$0] + bias[$0] }
        }
        let (stage, patches, cls) = (try file.floats("stage_3"), try file.floats("patch_tokens"), try file.floats("cls"))
        var worst: Float = 0
        for i in 0..<11 {
            var pooled = [Float](repeating: 0, count: 48)
            for p in 0..<4 {
                let column = (0..<48).map { stage[(i * 48 + $0) * 4 + p] }
                for c in 0..<48 { pooled[c] += column[c] / 4 }
                let normed = norm(column), start = (i * 4 + p) * 48
                worst = max(worst, zip(normed, patches[start..<(start + 48)]).map { abs($0 - $1) }.max() ?? 0)
            }
            worst = max(worst, zip(norm(pooled), cls[(i * 48)..<((i + 1) * 48)]).map { abs($0 - $1) }.max() ?? 0)
        }
        XCTAssertLessThanOrEqual(worst, 1e-4)
        let split = try FeaturesFile.read(path: out)
        XCTAssertEqual(split.classNames, ["a", "b"])
        XCTAssertEqual(split.features.count, 11)

        // f16 keeps the stages asked for, in f16.
        let half = path("h.safetensors")
        let h = try CLI.run(["extract", "--model", model, images, "--out", half, "--size", "64", "--stages", "2", "--dtype", "f16"])
        XCTAssertEqual(h.status, 0, h.stderr)
        let halfFile = try SafeTensorsFile(path: half)
        XCTAssertEqual(halfFile.tensors.keys.sorted(), ["cls", "mean_patch", "source_index", "stage_2"])
        XCTAssertEqual(halfFile.tensors["stage_2"]?.dtype, .f16)
        let full = try file.floats("stage_2")
        XCTAssertLessThanOrEqual(zip(try halfFile.floats("stage_2"), full).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 1, 2e-3)
    }

    /// A ViT, bad lists and the native preset are refused before anything is written.
    func testStagesAreRefusedWhenTheyCannotApply() throws {
        let images = try makeImages(), out = path("x.safetensors")
        let vit = try CLI.run(["extract", "--model", CLI.tinyModel, images, "--out", out, "--size", "64", "--stages", "0"])
        XCTAssertNotEqual(vit.status, 0)
        XCTAssertTrue(vit.stderr.contains("--stages applies to ConvNeXt models;") && vit.stderr.contains("is a ViT"), vit.stderr)
        for (list, fragment) in [("3,1", "ascending"), ("0,0", "ascending"), ("4", "it must be in 0...3"), ("0,x", "takes integers"), ("", "takes integers")] {
            let r = try CLI.run(["extract", "--model", model, images, "--out", out, "--stages", list])
            XCTAssertNotEqual(r.status, 0, list)
            XCTAssertTrue(r.stderr.contains("--stages") && r.stderr.contains(fragment), "\(list): \(r.stderr)")
        }
        let native = try CLI.run(["extract", "--model", model, images, "--out", out, "--preset", "native", "--stages", "1"])
        XCTAssertNotEqual(native.status, 0)
        XCTAssertTrue(native.stderr.contains("--stages needs one input size"), native.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// Two shards merged are one process's file byte for byte; a shard of other stages is refused.
    func testShardsWithStagesMergeToOneProcessByteForByte() throws {
        let images = try makeImages()
        let common = ["--model", model, "--size", "64", "--extract-batch-size", "4", "--threads", "1", "--stages", "1,3", "--dtype", "f16"]
        let single = path("single.safetensors"), shards = path("shards"), merged = path("merged.safetensors")
        let one = try CLI.run(["extract", images, "--out", single] + common)
        XCTAssertEqual(one.status, 0, one.stderr)
        for i in 0..<2 {
            let r = try CLI.run(["extract", images, "--out", shards, "--shard", "\(i)/2", "--checkpoint-every", "0"] + common)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("+ stage maps 1,3"), r.stdout)
        }
        let merge = try CLI.run(["merge", shards, "--out", merged])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: merged)), try Data(contentsOf: URL(fileURLWithPath: single)))
        XCTAssertEqual(try SafeTensorsFile(path: merged).tensors["stage_3"]?.shape, [11, 48, 2, 2])
        XCTAssertEqual(try FeaturesFile.read(path: shards).features, try FeaturesFile.read(path: single).features)

        let other = try CLI.run(["extract", images, "--out", shards, "--shard", "1/2"] + common.dropLast(4) + ["--stages", "1", "--dtype", "f16"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("the recipe") && other.stderr.contains("stages=1,3 max_pixels"), other.stderr)
    }
}
