import Foundation
import Heads
import SafeTensors
import Support
import TestSupport
import Training
import XCTest

/// Class 6: features files, heads and cache entries are validated tensor by tensor before use; a
/// bad cache entry is reported, removed and rebuilt, and never fails the next run.
final class OwnFilesTests: HostileTestCase {
    func writeFile(_ name: String, _ metadata: [String: String], _ tensors: [(String, [Float], [Int])], ints: [(String, [Int64], [Int])] = []) throws -> String {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (n, v, s) in tensors { try writer.add(n, floats: v, shape: s) }
        for (n, v, s) in ints { try writer.add(n, int64s: v, shape: s) }
        let path = temp + "/" + name
        try writer.write(to: path)
        return path
    }

    var featuresMetadata: [String: String] {
        ["format": "dinoprobe-features-v1", "model": "m", "backbone_fingerprint": "f", "preset": "hf", "size": "224",
         "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225",
         "paths": "[\"/d/train/a/1.jpg\",\"/d/train/b/2.jpg\",\"/d/train/a/3.jpg\"]"]
    }

    func testInconsistentFeaturesFilesAreRefused() throws {
        let m = featuresMetadata
        let ok: [(String, [Float], [Int])] = [("cls", [Float](repeating: 1, count: 12), [3, 4]), ("mean_patch", [Float](repeating: 1, count: 12), [3, 4])]
        XCTAssertEqual(try FeaturesFile.read(path: writeFile("ok", m, ok)).labels, [0, 1, 0])
        let cases: [(String, [String: String], [(String, [Float], [Int])], [(String, [Int64], [Int])], String)] = [
            ("rows", m, [("cls", [Float](repeating: 1, count: 12), [3, 4]), ("mean_patch", [Float](repeating: 1, count: 8), [2, 4])], [], "one shape [N, D]"),
            ("paths", m.merging(["paths": "[\"/d/train/a/1.jpg\"]"]) { $1 }, ok, [], "one image path per row (3 rows)"),
            ("layers", m, ok + [("layers_cls", [Float](repeating: 1, count: 24), [3, 2, 4]), ("layers_mean_patch", [Float](repeating: 1, count: 12), [3, 1, 4])], [], "must both be float [3, L, 4]"),
            ("patches", m, ok + [("patch_tokens", [Float](repeating: 1, count: 16), [2, 2, 1, 4])], [], "not [3, h, w, 4]"),
            ("labels", m.merging(["class_names": "[\"x\",\"y\"]"]) { $1 }, ok, [("labels", [0, 1, 7], [3])], "outside its 2 class names"),
            ("names", m.merging(["class_names": "[\"x\",\"x\"]"]) { $1 }, ok, [("labels", [0, 1, 1], [3])], "repeat a name"),
            ("preset", m.merging(["preset": "bogus"]) { $1 }, ok, [], "no valid 'preset'"),
            ("std", m.merging(["std": "0.2,nan,0.2"]) { $1 }, ok, [], "'std' is not three finite numbers"),
            ("inf", m, [("cls", [Float](repeating: .infinity, count: 12), [3, 4]), ("mean_patch", [Float](repeating: 1, count: 12), [3, 4])], [], "NaN or infinite"),
            ("format", m.merging(["format": "other"]) { $1 }, ok, [], "not written by `dinoprobe extract`"),
        ]
        for (name, metadata, tensors, ints, fragment) in cases {
            assertRefused(try FeaturesFile.read(path: writeFile(name, metadata, tensors, ints: ints)), [fragment])
        }
    }

    /// Stage maps (`extract --stages`) are checked against the rows and the `stages` metadata; a
    /// tensor of no known name is left alone.
    func testStageTensorsAreCheckedAndUnknownTensorsIgnored() throws {
        let m = featuresMetadata.merging(["layers": "1"]) { $1 }
        let ok: [(String, [Float], [Int])] = [("cls", [Float](repeating: 1, count: 12), [3, 4]), ("mean_patch", [Float](repeating: 1, count: 12), [3, 4])]
        func stage(_ name: String, _ shape: [Int]) -> (String, [Float], [Int]) { (name, [Float](repeating: 0.5, count: shape.reduce(1, *)), shape) }
        XCTAssertEqual(try FeaturesFile.read(path: writeFile("unknown", m, ok + [("extra", [1, 2], [2]), stage("stage_x", [1])])).labels, [0, 1, 0])
        let staged = try writeFile("staged", m.merging(["stages": "0,2"]) { $1 }, ok + [stage("stage_0", [3, 2, 4, 4]), stage("stage_2", [3, 5, 1, 1])])
        XCTAssertEqual(try FeaturesFile.read(path: staged).labels, [0, 1, 0])
        let like = try FeaturesFile.Writer(destination: temp + "/like", like: SafeTensorsFile(path: staged))
        XCTAssertEqual(like.stages.map(\.index), [0, 2])
        XCTAssertEqual(like.stages.map(\.shape), [[2, 4, 4], [5, 1, 1]])
        like.discard()
        let one = m.merging(["stages": "0"]) { $1 }
        let cases: [(String, [String: String], [(String, [Float], [Int])], String)] = [
            ("flat", one, ok + [stage("stage_0", [3, 8])], "stage_0 is F32 [3, 8], not a float [3, channels, height, width]"),
            ("rows", one, ok + [stage("stage_0", [2, 2, 2, 2])], "stage_0 is F32 [2, 2, 2, 2]"),
            ("empty", one, ok + [stage("stage_0", [3, 0, 2, 2])], "stage_0 is F32 [3, 0, 2, 2]"),
            ("unlisted", m, ok + [stage("stage_1", [3, 1, 1, 1])], "'stages' metadata"),
            ("listed", m.merging(["stages": "0,1"]) { $1 }, ok + [stage("stage_0", [3, 1, 1, 1])], "does not list its stage tensors"),
        ]
        for (name, metadata, tensors, fragment) in cases {
            let path = try writeFile(name, metadata, tensors)
            assertRefused(try FeaturesFile.read(path: path), [fragment])
            assertRefused(try FeaturesFile.Writer(destination: temp + "/out-" + name, like: SafeTensorsFile(path: path)), [fragment])
        }
    }

    func testBadHeadsAreRefused() throws {
        let meta = HeadMetadata(kind: .classifier, classNames: ["a", "b"]).safetensorsMetadata
        assertRefused(try LinearClassifier.load(from: writeFile("nan-head", meta, [("weight", [1, .nan, 3, 4], [2, 2]), ("bias", [0, 0], [2])])),
                      ["'weight'", "NaN or infinite"])
        assertRefused(try LinearClassifier.load(from: writeFile("shape-head", meta, [("weight", [1, 2, 3, 4], [2, 2]), ("bias", [0, 0, 0], [3])])),
                      ["'bias'", "expected [2]"])
        assertRefused(try LinearClassifier.load(from: writeFile("names-head", meta.merging(["class_names": "[\"a\"]"]) { $1 },
                                                               [("weight", [1, 2, 3, 4], [2, 2]), ("bias", [0, 0], [2])])), ["1 class names for 2 classes"])
        let seg = HeadMetadata(kind: .segmenter).safetensorsMetadata
        let bn: [(String, [Float], [Int])] = [("bn.weight", [1, 1], [2]), ("bn.bias", [0, 0], [2]), ("bn.running_mean", [0, 0], [2])]
        assertRefused(try LinearSegmenter.load(from: writeFile("var-head", seg, [("conv.weight", [1, 2, 3, 4], [2, 2, 1, 1]), ("conv.bias", [0, 0], [2]),
                                                                                 ("bn.running_var", [1, -1], [2])] + bn)), ["negative"])
    }

    /// A generated ImageFolder and the train-linear arguments that use it with the tiny model.
    func dataset() throws -> (root: String, cache: String, arguments: [String]) {
        let root = temp + "/shapes", cache = temp + "/cache"
        XCTAssertEqual(try CLI.run(["synth", "classification", "--out", root, "--classes", "2", "--count", "6", "--size", "32"]).status, 0)
        return (root, cache, ["train-linear", "--model", CLI.tinyModel, "--data", root, "--cache-dir", cache,
                              "--epochs", "1", "--iters-per-epoch", "5", "--batch-size", "4", "--overwrite", "--out", temp + "/run"])
    }

    func testACorruptCacheEntryIsReportedRemovedAndRebuilt() throws {
        let (_, cache, arguments) = try dataset()
        let first = try CLI.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("train-") }
        let entry = cache + "/" + (try XCTUnwrap(entries.first))
        let good = try Data(contentsOf: URL(fileURLWithPath: entry))
        let file = try SafeTensorsFile(path: entry)
        let dataStart = good.count - file.withAllData { $0.count }
        let indexOffset = dataStart + (try XCTUnwrap(file.tensors["source_index"])).begin
        let clsOffset = dataStart + (try XCTUnwrap(file.tensors["cls"])).begin
        var outOfRange = good
        outOfRange.replaceSubrange(indexOffset..<(indexOffset + 8), with: withUnsafeBytes(of: Int64(1_000_000).littleEndian) { Data($0) })
        var nan = good
        nan.replaceSubrange(clsOffset..<(clsOffset + 4), with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) })
        for (name, damaged) in [("truncated", good.prefix(good.count / 2)), ("index out of range", outOfRange), ("NaN", nan), ("garbage", Data(repeating: 7, count: 64))] {
            try damaged.write(to: URL(fileURLWithPath: entry))
            let r = try CLI.run(arguments)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("is unusable"), "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("removed it, extracting again"), "\(name): \(r.stderr)")
            // The rebuilt entry is used by the next run.
            let again = try CLI.run(arguments)
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertTrue(again.stderr.contains("feature rows from the cache"), "\(name): \(again.stderr)")
        }
    }
}
