import Foundation
import Heads
import SafeTensors
import Support
import TestSupport
import Training
import XCTest

/// Class 6: a dense patch store is a features file of patch tokens and targets (`target_u8`,
/// `target_f32`); its rows, targets and values are checked before a run uses it, and the writer
/// refuses rows of another layout.
final class PatchStoreFileTests: HostileTestCase {
    let metadata = ["format": "dinoprobe-features-v1", "model": "m", "backbone_fingerprint": "f", "preset": "hf", "size": "2",
                    "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225", "paths": "[\"/d/a.png\",\"/d/b.png\"]", "inputs": "2", "views": "1"]
    let classes = PatchFeatureStore.Expectation(dim: 3, resolution: 2, targets: .classes(count: 3, ignoreIndex: 255))
    let depths = PatchFeatureStore.Expectation(dim: 3, resolution: 2, targets: .depths)

    /// A store of two views of a 1x1 grid of 3-wide tokens, with [2, 2, 2] targets: class labels
    /// (`labels`) or depths (`depths`), under the tensor `targetName` when given.
    func store(_ name: String, tokens: [Float] = [1, 2, 3, 4, 5, 6], tokenShape: [Int] = [2, 1, 1, 3], labels: [UInt8]? = [0, 1, 2, 255, 0, 0, 1, 1],
               depths: [Float]? = nil, targetName: String? = nil, targetShape: [Int] = [2, 2, 2], both: Bool = false,
               extra: [String: String] = [:]) throws -> String {
        var writer = SafeTensorsWriter(metadata: metadata.merging(extra) { $1 })
        try writer.add("patch_tokens", floats: tokens, shape: tokenShape, dtype: .f16)
        if let depths { try writer.add(targetName ?? "target_f32", floats: depths, shape: targetShape) }
        if let labels, depths == nil || both { try writer.add(targetName ?? "target_u8", bytes: labels, shape: targetShape) }
        try writer.add("source_index", int64s: [0, 1], shape: [2])
        let path = temp + "/" + name
        try writer.write(to: path)
        return path
    }

    func testAGoodStoreIsReadAndBadOnesAreRefused() throws {
        let good = try PatchFeatureStore(path: store("good"), expecting: classes)
        XCTAssertEqual(try good.batch([1]).targets, [0, 0, 1, 1])
        XCTAssertEqual(try good.batch([1]).features, [4, 5, 6])
        let depth = try PatchFeatureStore(path: store("depth", depths: [0, 1, 2, 3, 4, 5, 6, 7]), expecting: depths)
        XCTAssertEqual(try depth.batch([1], of: Float.self).targets, [4, 5, 6, 7])
        let cases: [(() throws -> String, PatchFeatureStore.Expectation, String)] = [
            ({ try self.store("label", labels: [0, 1, 2, 3, 0, 0, 0, 0]) }, classes, "a label is 3, outside the 3 classes"),
            ({ try self.store("nan", tokens: [1, .nan, 3, 4, 5, 6]) }, classes, "NaN or infinite"),
            ({ try self.store("negative", depths: [0, 1, -2, 3, 4, 5, 6, 7]) }, depths, "a depth is -2.0, not a finite distance"),
            ({ try self.store("inf", depths: [0, 1, 2, 3, .infinity, 5, 6, 7]) }, depths, "a depth is inf, not a finite distance"),
            ({ try self.store("type") }, depths, "U8 targets, not 3-wide at 2 with F32 targets"),
            ({ try self.store("rows", labels: [0, 1, 2, 0], targetShape: [1, 2, 2]) }, classes, "target_u8 is U8 [1, 2, 2], not a target_u8 or target_f32 [2, H, W]"),
            ({ try self.store("named", targetName: "target_f32") }, classes, "target_f32 is U8 [2, 2, 2]"),
            ({ try self.store("grid", tokens: [], tokenShape: [2, 0, 1, 3]) }, classes, "patch_tokens has shape [2, 0, 1, 3], not [2, h, w, 3]"),
            ({ try self.store("paths", extra: ["paths": "[\"/d/a.png\"]"]) }, classes, "one image path per row (2 rows)"),
            ({ try self.store("format", extra: ["format": "other"]) }, classes, "dinoprobe-features-v1"),
            ({ try self.store("both", depths: [Float](repeating: 1, count: 8), both: true) }, classes, "one target per view"),
        ]
        for (make, expectation, fragment) in cases {
            assertRefused(try PatchFeatureStore(path: make(), expecting: expectation), [fragment], within: 5)
        }
        // A patch store is not a classification features file.
        assertRefused(try FeaturesFile.read(path: temp + "/good"), ["patch tokens only"])
    }

    /// The writer keeps one layout: rows of patch tokens only with targets of the file's size, and
    /// a copied range of rows within the file.
    func testTheWriterRefusesRowsOfAnotherLayout() throws {
        let target: (name: String, dtype: SafeTensorsDType, height: Int, width: Int) = ("target_u8", .u8, 2, 2)
        let writer = try FeaturesFile.Writer(destination: temp + "/out", dim: 3, layers: 1, registers: 0, patchTokens: true, dtype: .f16,
                                             inputs: 2, pooled: false, target: target)
        defer { writer.discard() }
        let tokens: (values: ArraySlice<Float>, gridHeight: Int, gridWidth: Int) = ([1, 2, 3], 1, 1)
        assertRefused(try [UInt8](repeating: 0, count: 3).withUnsafeBytes { try writer.append(path: "a", input: 0, patchTokens: tokens, target: $0) },
                      ["a target of the file's size"])
        assertRefused(try writer.append(path: "a", input: 0, cls: [1, 2, 3], meanPatch: [1, 2, 3]), ["expected 0 x 3 values"])
        assertRefused(try writer.appendRows(of: SafeTensorsFile(path: store("good")), rows: 1..<3), ["it has no rows 1..<3"])
        assertRefused(try FeaturesFile.Writer(destination: temp + "/bad", dim: 3, layers: 1, registers: 4, patchTokens: true, dtype: .f16, pooled: false),
                      ["patch tokens only"])
        try writer.appendRows(of: SafeTensorsFile(path: store("good")), rows: 1..<2)
        XCTAssertEqual(writer.count, 1)
    }
}
