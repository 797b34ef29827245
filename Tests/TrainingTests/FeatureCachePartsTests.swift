import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support
@testable import Training
import XCTest

/// Cache entries built in parts: shards in any order, a killed run, damaged parts, all equal to
/// one pass bit for bit.
final class FeatureCachePartsTests: XCTestCase {
    let modelFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BackboneTests/Fixtures/models/gelu_reg4")

    func testTilingCoversFromTheStartAndNamesTheGaps() {
        XCTAssert(StoreParts.tiling([], over: 0..<10) == ([], [0..<10]))
        // At each position the longest part starting there; 6..<20 never starts on the cursor.
        let t = StoreParts.tiling([0..<4, 0..<8, 12..<16, 6..<20], over: 0..<20)
        XCTAssertEqual(t.used, [0..<8, 12..<16])
        XCTAssertEqual(t.gaps, [8..<12, 16..<20])
        XCTAssertEqual(StoreParts.tiling([0..<8, 8..<30], over: 0..<20).gaps, [8..<20], "a part past the range is not used")
        XCTAssertEqual(StoreParts.tiling([4..<8], over: 4..<8).used, [4..<8])
    }

    func testShardsInAnyOrderAndAKilledRunEqualOnePass() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-parts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try SyntheticData.makeClassificationFolder(root: root + "/data", classes: 3, perClass: 7, valPerClass: 1, size: 32, seed: 4)
        // One unreadable image: skipped in its part, at its place in the list.
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: root + "/data/train/class_1/zz_broken.jpg"))
        let dataset = try ImageFolderDataset.load(root: root + "/data", split: .train)
        let model = try DINOv3Model(folder: modelFolder)
        let preprocessing = Preprocessing(size: 32), layers = [1]
        func split(_ cache: FeatureCache) throws -> FeatureSplit {
            try cache.split(of: dataset, model: model, backboneID: "tiny", preprocessing: preprocessing, layers: layers, batchSize: 4)
        }
        let reference = try split(FeatureCache(folder: nil))
        XCTAssertEqual(reference.skipped.count, 1)

        let cache = FeatureCache(folder: root + "/cache")
        for index in [2, 0] {
            let outcome = try cache.buildShard(of: dataset, shard: try Shard(index: index, count: 3), model: model, preprocessing: preprocessing,
                                               layers: layers, batchSize: 4)
            XCTAssertEqual(outcome.range.lowerBound % 4, 0, "shards start on whole batches")
            XCTAssertEqual(outcome.extracted, outcome.range.count)
        }
        // Shard 1 never ran: the unsharded run extracts only its part and joins all three.
        let joined = try split(cache)
        XCTAssertEqual(joined.features.cls, reference.features.cls)
        XCTAssertEqual(joined.features.meanPatch, reference.features.meanPatch)
        XCTAssertEqual(joined.paths, reference.paths)
        XCTAssertEqual(joined.skipped.map(\.path), reference.skipped.map(\.path))
        let left = try FileSystem.list(root + "/cache")
        XCTAssertEqual(left.filter { $0.contains(".part-") }, [], "parts are removed once joined")
        XCTAssertEqual(left.filter { $0.hasSuffix(".safetensors") }.count, 1)
        // A finished entry makes a later shard a no-op.
        let again = try cache.buildShard(of: dataset, shard: try Shard(index: 1, count: 3), model: model, preprocessing: preprocessing,
                                         layers: layers, batchSize: 4)
        XCTAssertEqual(again.extracted, 0)

        // A killed run left its first part and a damaged one: the first is kept, the damaged one redone.
        let second = FeatureCache(folder: root + "/cache2")
        let shard0 = try second.buildShard(of: dataset, shard: try Shard(index: 0, count: 2), model: model, preprocessing: preprocessing,
                                           layers: layers, batchSize: 4)
        let shard1 = try second.buildShard(of: dataset, shard: try Shard(index: 1, count: 2), model: model, preprocessing: preprocessing,
                                           layers: layers, batchSize: 4)
        let parts = try FileSystem.list(root + "/cache2").filter { $0.contains(".part-") }.sorted()
        XCTAssertGreaterThanOrEqual(parts.count, 2, "at least one part per shard (the first chunk is one batch)")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: root + "/cache2/" + parts[1]))
        XCTAssertEqual(shard0.range.upperBound, shard1.range.lowerBound)
        let redone = try split(second)
        XCTAssertEqual(redone.features.cls, reference.features.cls)
        XCTAssertEqual(redone.features.meanPatch, reference.features.meanPatch)
        XCTAssertThrowsError(try FeatureCache(folder: nil).buildShard(of: dataset, shard: try Shard(index: 0, count: 2), model: model,
                                                                     preprocessing: preprocessing, layers: layers, batchSize: 4))
    }
}
