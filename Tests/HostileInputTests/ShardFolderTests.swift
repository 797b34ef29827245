import Foundation
import Heads
import Images
import SafeTensors
import Support
import TestSupport
import XCTest

/// Folders of feature shards are checked like every other file: the manifest strictly, each shard
/// against it, before anything is used.
final class ShardFolderTests: HostileTestCase {
    let paths = (0..<8).map { "data/\($0 % 2 == 0 ? "cat" : "dog")/img\($0).png" }

    /// Stage maps the shards keep (empty: none), each of the given [C, H, W].
    var stages: [FeaturesFile.StageLayout] = []

    var identity: ShardManifest.Identity {
        ShardManifest.Identity(shards: 2, paths: paths, batchSize: 2, backboneID: "m", backboneFingerprint: "f", compute: "f32 cpu",
                               preprocessing: Preprocessing(), blocks: 1, patchTokens: false, dtype: .f32, maxPixels: 100,
                               stages: stages.map(\.index))
    }

    /// Writes shard `index` (rows valued by their listing position) and marks it done.
    func writeShard(_ index: Int, rows: Range<Int>? = nil, value: (Int) -> Float = { Float($0) }) throws {
        let shard = try Shard(index: index, count: 2), manifest = try ShardManifest.update(folder: temp, identity: identity)
        let range = identity.range(of: shard)
        let writer = try FeaturesFile.Writer(destination: temp + "/" + ShardManifest.fileName(of: shard), dim: 4, layers: 1, registers: 0,
                                             patchTokens: false, dtype: .f32, stages: stages)
        for i in rows ?? range {
            try writer.append(path: paths[i], cls: [Float](repeating: value(i), count: 4), meanPatch: [1, 2, 3, 4],
                              stageMaps: stages.map { [Float](repeating: value(i), count: $0.size)[...] })
        }
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

    /// Stage maps travel through a folder and its merge; shards of one recipe whose stage maps
    /// differ in shape, or a shard with a malformed stage tensor, are refused, never trapped on.
    func testStageTensorsOfShardsAreChecked() throws {
        stages = [try FeaturesFile.StageLayout(index: 1, shape: [2, 1, 3])]
        try writeShard(0)
        try writeShard(1)
        XCTAssertEqual(try FeaturesFile.read(path: temp).paths, paths)
        let merged = temp + "/merged.safetensors"
        XCTAssertEqual(try ShardedFeatures.merge(folder: temp, to: merged).rows, 8)
        let file = try SafeTensorsFile(path: merged)
        XCTAssertEqual(file.tensors["stage_1"]?.shape, [8, 2, 1, 3])
        XCTAssertEqual(file.metadata["stages"], "1")
        XCTAssertEqual(try file.floats("stage_1"), (0..<8).flatMap { [Float](repeating: Float($0), count: 6) })

        // Shard 1 with other stage shapes: the recipe (stage 1) agrees, the maps do not.
        stages = [try FeaturesFile.StageLayout(index: 1, shape: [3, 1, 2])]
        try writeShard(1)
        assertRefused(try FeaturesFile.read(path: temp), ["different widths, blocks, stage maps"])
        assertRefused(try ShardedFeatures.merge(folder: temp, to: temp + "/m2.safetensors"), ["'stage_1' is F32 [4, 3, 1, 2], not F32 [4, 2, 1, 3]"])

        // Shard 1 rewritten with a flat stage tensor and its own stamp.
        let name = temp + "/" + ShardManifest.fileName(of: try Shard(index: 1, count: 2))
        let good = try SafeTensorsFile(path: name)
        var writer = SafeTensorsWriter(metadata: good.metadata)
        for tensor in ["cls", "mean_patch"] { try writer.add(tensor, floats: try good.floats(tensor), shape: [4, 4]) }
        try writer.add("stage_1", floats: try good.floats("stage_1"), shape: [4, 6])
        try writer.write(to: name)
        assertRefused(try FeaturesFile.read(path: temp), ["stage_1 is F32 [4, 6]"])
        assertRefused(try ShardedFeatures.merge(folder: temp, to: temp + "/m3.safetensors"), ["stage_1"])
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
