import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support
@testable import Training
import XCTest

/// The one feature-store container: a cache entry is a features file, and entries in the format
/// written before (`dinoprobe-feature-cache-v1`, scripts/make_old_store_fixtures.py) are still read.
final class FeatureStoreFormatTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    func testALegacyCacheEntryIsStillRead() throws {
        let file = try SafeTensorsFile(path: fixtures + "/old-feature-cache-v1.safetensors")
        let entry = try FeatureCache.read(file, inputs: 3, fingerprint: "fp", dim: 3, blocks: 2)
        XCTAssertEqual(entry.sourceIndex, [0, 2])
        XCTAssertEqual(entry.skipped, [SkippedInput(index: 1, path: "/d/b.jpg", reason: "unreadable")])
        XCTAssertEqual(entry.features.cls, (0..<12).map { Float($0) / 8 })
        XCTAssertEqual(entry.features.meanPatch, (0..<12).map { -Float($0) / 8 })
        XCTAssertThrowsError(try FeatureCache.read(file, inputs: 3, fingerprint: "other", dim: 3, blocks: 2))
        XCTAssertThrowsError(try FeatureCache.read(file, inputs: 3, fingerprint: "fp", dim: 3, blocks: 1))
        // Given where a features file is expected, it is refused with what to run instead.
        XCTAssertThrowsError(try FeaturesFile.read(path: file.path)) { XCTAssertTrue("\($0)".contains("`dinoprobe extract` writes the same features"), "\($0)") }
    }

    func testACacheEntryIsAFeaturesFileAndBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-store-\(UUID().uuidString)").path
        try FileSystem.createDirectories(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let paths = ["/d/a/1.jpg", "/d/b/2.jpg", "/d/a/3.jpg", "/d/b/4.jpg"]
        let cls = (0..<18).map { Float($0) / 4 }, mean = (0..<18).map { Float($0) - 3 }
        let entry = FeatureCache.Entry(features: try TokenFeatures(count: 3, dim: 3, blocks: 2, cls: cls, meanPatch: mean), sourceIndex: [0, 1, 3],
                                       skipped: [SkippedInput(index: 2, path: paths[2], reason: "unreadable")])
        let source = FeatureSource(backboneID: "tiny", backboneFingerprint: "fp", preprocessing: Preprocessing(size: 32))
        let path = folder + "/entry.safetensors"
        try FeatureCache.write(entry, paths: paths, source: source, to: path)

        let back = try FeatureCache.read(SafeTensorsFile(path: path), inputs: 4, fingerprint: "fp", dim: 3, blocks: 2)
        XCTAssertEqual(back.features.cls, cls)
        XCTAssertEqual(back.features.meanPatch, mean)
        XCTAssertEqual(back.sourceIndex, [0, 1, 3])
        XCTAssertEqual(back.skipped, entry.skipped)
        // The same file as the eval commands and Python read it: last block in cls [N, D].
        let split = try FeaturesFile.read(path: path)
        XCTAssertEqual(split.paths, [paths[0], paths[1], paths[3]])
        XCTAssertEqual(split.labels, [0, 1, 1])
        XCTAssertEqual(split.features.cls, cls)
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.metadata["format"], FeaturesFile.format)
        XCTAssertEqual(file.tensors["cls"]?.shape, [3, 3])
        XCTAssertEqual(try file.floats("cls"), [3, 4, 5, 9, 10, 11, 15, 16, 17].map { Float($0) / 4 })
        // Its accounting is checked: the same rows claimed for five inputs are refused.
        XCTAssertThrowsError(try FeatureCache.read(file, inputs: 5, fingerprint: "fp", dim: 3, blocks: 2))
        // Rows out of input order, an input both read and skipped, or a skipped input without its place are refused.
        for (name, rows, skipped) in [("order", [1, 0, 3], entry.skipped), ("both", [0, 1, 3], [SkippedInput(index: 1, path: paths[1], reason: "x")]),
                                      ("unplaced", [0, 1, 3], [SkippedInput(path: paths[2], reason: "x")])] {
            let bad = FeatureCache.Entry(features: entry.features, sourceIndex: rows, skipped: skipped)
            try FeatureCache.write(bad, paths: paths, source: source, to: path)
            XCTAssertThrowsError(try FeatureCache.read(SafeTensorsFile(path: path), inputs: 4, fingerprint: "fp", dim: 3, blocks: 2), name) {
                XCTAssertTrue("\($0)".contains("account for the 4 inputs"), "\(name): \($0)")
            }
        }
    }

    func testAnExtractOutputIsACacheEntry() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try SyntheticData.makeClassificationFolder(root: root, classes: 2, perClass: 3, valPerClass: 1, size: 32, seed: 2)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: root + "/train/class_0/zz_broken.jpg"))
        let paths = try ImageFolderDataset.load(root: root, split: .train).paths
        let model = try DINOv3Model(folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BackboneTests/Fixtures/models/gelu_reg4"))
        let out = root + "/features.safetensors"
        try Extraction.featuresFile(model: model, backboneID: "tiny", paths: paths,
                                    settings: ExtractionSettings(preprocessing: Preprocessing(size: 32), blocks: 2, batchSize: 4), destination: out)
        let entry = try FeatureCache.read(SafeTensorsFile(path: out), inputs: paths.count, fingerprint: model.fingerprint,
                                          dim: model.config.hiddenSize, blocks: 2)
        let broken = try XCTUnwrap(paths.firstIndex { $0.hasSuffix("zz_broken.jpg") })
        XCTAssertEqual(entry.skipped.map(\.index), [broken])
        XCTAssertEqual(entry.sourceIndex, paths.indices.filter { $0 != broken })
        XCTAssertEqual(entry.features.cls, try FeaturesFile.read(path: out).features.cls)
    }
}
