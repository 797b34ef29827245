import Backbone
import Datasets
import Foundation
import Heads
import SafeTensors
import Support
@testable import Training
import XCTest

/// The dense patch store is the one features-file container (patch tokens and targets as row
/// tensors); stores in the format written before (`dinoprobe-patch-store-v1`,
/// scripts/make_old_store_fixtures.py) are still read, and never joined as parts.
final class PatchStoreFormatTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/old-patch-store-v1.safetensors").path

    func temporary() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-patches-\(UUID().uuidString)").path
        try FileSystem.createDirectories(path)
        return path
    }

    func testALegacyPatchStoreIsStillReadButNotJoined() throws {
        let expectation = PatchFeatureStore.Expectation(dim: 3, resolution: 4, targets: .classes(count: 3, ignoreIndex: 255))
        let store = try PatchFeatureStore(path: fixture, expecting: expectation)
        XCTAssertEqual([store.count, store.gridHeight, store.gridWidth, store.dim, store.labelHeight], [2, 2, 2, 3, 4])
        XCTAssertEqual(store.skipped, [SkippedInput(index: 1, path: "/d/b.jpg", reason: "no mask")])
        let batch = try store.batch([1, 0])
        XCTAssertEqual(batch.features, (12..<24).map { Float($0) / 4 - 2 } + (0..<12).map { Float($0) / 4 - 2 })
        XCTAssertEqual(batch.targets, Array([[UInt8]](repeating: [0, 1, 2, 255], count: 8).joined()))
        XCTAssertThrowsError(try PatchFeatureStore(path: fixture, expecting: .init(dim: 3, resolution: 4, targets: .classes(count: 2, ignoreIndex: 255)))) {
            XCTAssertTrue("\($0)".contains("a label is 2"), "\($0)")
        }
        // As a part of a store being built it is not used: removed, and its pairs extracted again.
        let folder = try temporary()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let part = StoreParts(file: folder + "/patches.safetensors").path(0..<2)
        try FileManager.default.copyItem(atPath: fixture, toPath: part)
        XCTAssertThrowsError(try DenseStore.fillParts(file: folder + "/patches.safetensors", range: 0..<2, of: 2, batchSize: 2, checkpointEvery: 1,
                                                      expectation: expectation) { range, _, _ in throw TrainingError.badOption("extract \(range)") }) {
            XCTAssertEqual("\($0)", "\(TrainingError.badOption("extract 0..<2"))")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: part))
    }

    /// A store with flipped views: patch tokens and targets as row tensors, plain views then mirrored
    /// ones, each row naming its image and input, the target's meaning in the metadata.
    func testADenseStoreIsAFeaturesFile() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SyntheticDepth.make(root: root + "/nyu", count: 3, valCount: 1, width: 48, height: 40)
        let data = try DepthDataset.load(root: root + "/nyu", split: .train)
        let model = try DINOv3Model(folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BackboneTests/Fixtures/models/gelu_reg4"))
        let store = try DenseStore.obtain(model: model, dataset: data, recipe: .dense(resolution: 32), flip: true, batchSize: 2,
                                          cacheFolder: root + "/cache", scratchFolder: root)
        let file = try SafeTensorsFile(path: store.path), rows = try FeaturesFile.Rows(file: file)
        XCTAssertFalse(rows.pooled)
        XCTAssertEqual(Set(file.tensors.keys), ["patch_tokens", "target_f32", "source_index"])
        XCTAssertEqual(file.tensors["target_f32"]?.shape, [6, 32, 32])
        XCTAssertEqual(rows.paths, (0..<6).map { data.imagePath($0 % 3) })
        XCTAssertEqual(try file.ints("source_index"), [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(rows.source.backboneFingerprint, model.fingerprint)
        XCTAssertEqual([file.metadata["target"], file.metadata["flip"], file.metadata["inputs"], file.metadata["views"]], ["depth", "true", "3", "2"])
        XCTAssertThrowsError(try FeaturesFile.read(path: store.path)) { XCTAssertTrue("\($0)".contains("patch tokens only"), "\($0)") }
    }
}

/// Stores of four synthetic depth pairs built in two shards, then joined.
extension PatchStoreFormatTests {
    struct Sharded {
        let root: String, data: DepthDataset, model: DINOv3Model

        func path(flip: Bool) -> String {
            DenseStore.path(root + "/cache", model: model, dataset: data, recipe: .dense(resolution: 32), flip: flip, augment: nil)
        }

        func shards(flip: Bool, order: [Int] = [0, 1]) throws {
            for index in order {
                _ = try DenseStore.shard(model: model, dataset: data, recipe: .dense(resolution: 32), flip: flip, batchSize: 2,
                                         cacheFolder: root + "/cache", shard: Shard(index: index, count: 2))
            }
        }

        func store(flip: Bool, cached: Bool = true, reporter: Reporter = SilentReporter()) throws -> PatchFeatureStore {
            try DenseStore.obtain(model: model, dataset: data, recipe: .dense(resolution: 32), flip: flip, batchSize: 2,
                                  cacheFolder: cached ? root + "/cache" : nil, scratchFolder: root, reporter: reporter)
        }
    }

    /// Keeps the notes.
    final class Notes: Reporter, @unchecked Sendable {
        var notes: [String] = []
        func task(_ name: String, total: Int?, unit: String) -> ProgressTask { SilentReporter().task(name, total: total, unit: unit) }
        func note(_ message: String) { notes.append(message) }
    }

    /// Four pairs, the targets of `unusable` damaged.
    func sharded(unusable: Range<Int> = 0..<0) throws -> Sharded {
        let root = try temporary()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try SyntheticDepth.make(root: root + "/nyu", count: 4, valCount: 1, width: 48, height: 40)
        let data = try DepthDataset.load(root: root + "/nyu", split: .train)
        for i in unusable { try Data("not a depth map".utf8).write(to: URL(fileURLWithPath: data.targetPath(i))) }
        let model = try DINOv3Model(folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BackboneTests/Fixtures/models/gelu_reg4"))
        return Sharded(root: root, data: data, model: model)
    }

    /// A part whose content is another range's (a part copied or renamed over another name) is
    /// refused and its pairs extracted again: the joined store holds every pair once, in order.
    func testAPartUnderAnotherRangesNameIsNotJoined() throws {
        let s = try sharded()
        try s.shards(flip: false)
        let parts = StoreParts(file: s.path(flip: false))
        XCTAssertEqual(parts.ranges.sorted { $0.lowerBound < $1.lowerBound }, [0..<2, 2..<4])
        try FileManager.default.removeItem(atPath: parts.path(2..<4))
        try FileManager.default.copyItem(atPath: parts.path(0..<2), toPath: parts.path(2..<4))
        let notes = Notes()
        let store = try s.store(flip: false, reporter: notes)
        XCTAssertEqual(try FeaturesFile.Rows(file: SafeTensorsFile(path: store.path)).paths, (0..<4).map { s.data.imagePath($0) })
        XCTAssertTrue(notes.notes.contains { $0.contains(parts.path(2..<4)) && $0.contains("is unusable") && $0.contains("2..<4 of 4") }, "\(notes.notes)")
    }

    /// Parts of a store without flips, placed under the names of a flipped store's parts (the
    /// same pairs and ranges), are refused and extracted again: the store holds both views of every pair.
    func testPartsOfAnotherViewCountAreNotJoined() throws {
        let s = try sharded()
        try s.shards(flip: false)
        let (plain, flipped) = (StoreParts(file: s.path(flip: false)), StoreParts(file: s.path(flip: true)))
        for range in [0..<2, 2..<4] { try FileManager.default.moveItem(atPath: plain.path(range), toPath: flipped.path(range)) }
        let store = try s.store(flip: true)
        XCTAssertEqual(store.count, 8)
        XCTAssertEqual(try SafeTensorsFile(path: store.path).ints("source_index"), [0, 1, 2, 3, 0, 1, 2, 3])
    }

    /// A part whose skipped list names a position outside its pairs (one that overflows when
    /// numbered in the store trapped the join) is refused and extracted again.
    func testAPartSkippingAPositionOutsideItIsRefused() throws {
        let s = try sharded(unusable: 3..<4)
        try s.shards(flip: false)
        let part = StoreParts(file: s.path(flip: false)).path(2..<4)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: part))
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        XCTAssertTrue(header.contains(#"[[\"1\","#), header)
        let forged = Data(header.replacingOccurrences(of: #"[[\"1\","#, with: #"[[\"9223372036854775807\","#).utf8)
        bytes.replaceSubrange(0..<(8 + length), with: withUnsafeBytes(of: UInt64(forged.count).littleEndian, Array.init) + forged)
        try bytes.write(to: URL(fileURLWithPath: part))
        let store = try s.store(flip: false)
        XCTAssertEqual(store.skipped.map(\.index), [3])
    }

    /// A shard whose pairs are all unusable writes a part of no rows (one process skips those
    /// pairs and goes on): the joined store is the one-process store.
    func testAShardOfOnlyUnusablePairsDoesNotFail() throws {
        let s = try sharded(unusable: 2..<4)
        let single = try s.store(flip: true, cached: false)
        try s.shards(flip: true, order: [1, 0])
        let joined = try s.store(flip: true)
        XCTAssertEqual(joined.count, single.count)
        XCTAssertEqual(joined.skipped.map(\.index), [2, 3])
        XCTAssertEqual(try joined.batch(Array(0..<4), of: Float.self).features, try single.batch(Array(0..<4), of: Float.self).features)
    }
}
