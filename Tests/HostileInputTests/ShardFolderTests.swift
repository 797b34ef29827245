import Foundation
import Heads
import Images
import SafeTensors
import Support
import XCTest

/// Folders of feature shards are checked like every other file: the manifest strictly, each shard
/// against it, before anything is used.
final class ShardFolderTests: HostileTestCase {
    let paths = (0..<8).map { "data/\($0 % 2 == 0 ? "cat" : "dog")/img\($0).png" }

    var identity: ShardManifest.Identity {
        ShardManifest.Identity(shards: 2, paths: paths, batchSize: 2, backboneID: "m", backboneFingerprint: "f", compute: "f32 cpu",
                               preprocessing: Preprocessing(), blocks: 1, patchTokens: false, dtype: .f32, maxPixels: 100)
    }

    /// Writes shard `index` (rows valued by their listing position) and marks it done.
    func writeShard(_ index: Int, rows: Range<Int>? = nil, value: (Int) -> Float = { Float($0) }) throws {
        let shard = try Shard(index: index, count: 2), manifest = try ShardManifest.update(folder: temp, identity: identity)
        let range = identity.range(of: shard)
        let writer = try FeaturesFile.Writer(destination: temp + "/" + ShardManifest.fileName(of: shard), dim: 4, layers: 1, registers: 0,
                                             patchTokens: false, dtype: .f32)
        for i in rows ?? range { try writer.append(path: paths[i], cls: [Float](repeating: value(i), count: 4), meanPatch: [1, 2, 3, 4]) }
        try writer.finish(source: FeatureSource(backboneID: "m", backboneFingerprint: "f", preprocessing: Preprocessing()), skipped: [],
                          extraMetadata: manifest.stamp(shard, range: range))
        try ShardManifest.update(folder: temp, identity: identity) { $0.done.append(index) }
    }

    func testAFolderReadsAsItsShardsInOrder() throws {
        try writeShard(1)
        assertRefused(try FeaturesFile.read(path: temp), ["1 of its 2 shards are not finished (0)"])
        try writeShard(0)
        let split = try FeaturesFile.read(path: temp)
        XCTAssertEqual(split.paths, paths)
        XCTAssertEqual(split.labels, [0, 1, 0, 1, 0, 1, 0, 1])
        XCTAssertEqual(split.features.cls, (0..<8).flatMap { [Float](repeating: Float($0), count: 4) })
        let merged = temp + "/merged.safetensors"
        XCTAssertEqual(try ShardedFeatures.merge(folder: temp, to: merged).rows, 8)
        XCTAssertEqual(try FeaturesFile.read(path: merged).features, split.features)
    }

    func testShardsThatDisagreeWithTheManifestAreRefused() throws {
        try writeShard(0)
        try writeShard(1, rows: 4..<8, value: { $0 == 6 ? .nan : Float($0) })
        assertRefused(try FeaturesFile.read(path: temp), ["shard-00001-of-00002", "NaN or infinite"])
        // More rows than the shard's images.
        try writeShard(1, rows: 3..<8)
        assertRefused(try FeaturesFile.read(path: temp), ["5 rows for 4 images"])
        // Another run's identity, even with every other field alike.
        try writeShard(1)
        var other = identity
        other.maxPixels = 99
        assertRefused(try ShardManifest.update(folder: temp, identity: other), ["other settings", "max_pixels=100 there"])
    }

    func testHostileManifestsAreRefused() throws {
        try writeShard(0)
        try writeShard(1)
        let good = try String(contentsOfFile: temp + "/manifest.json", encoding: .utf8)
        for (text, fragment) in [(good.replacingOccurrences(of: "\"images\" : 8", with: "\"images\" : 1125899906842624"), "out of range"),
                                 (good.replacingOccurrences(of: "\"shards\" : 2", with: "\"shards\" : 0"), "out of range"),
                                 (good.replacingOccurrences(of: "\"format\"", with: "\"format\" : \"x\", \"format\""), "appears twice"),
                                 (String(repeating: " ", count: 9 << 20) + good, "bytes")] {
            XCTAssertNotEqual(text, good)
            try write("manifest.json", text)
            assertRefused(try FeaturesFile.read(path: temp), ["manifest.json", fragment])
        }
        // A manifest that is a link out of the folder is not followed.
        let outside = try write("../outside-\(UUID().uuidString).json", good)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.removeItem(atPath: temp + "/manifest.json")
        try FileManager.default.createSymbolicLink(atPath: temp + "/manifest.json", withDestinationPath: outside)
        assertRefused(try FeaturesFile.read(path: temp), ["outside"])
    }
}
