import Backbone
import Foundation
import Images
import Support
import Training
import XCTest

/// The one key scheme of the feature stores: everything that can change a stored value changes
/// the key, nothing else does.
final class FeatureStoreKeyTests: XCTestCase {
    let modelFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BackboneTests/Fixtures/models/gelu_reg4")

    func testEveryInputOfTheKeyMatters() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let a = folder + "/a.jpg", b = folder + "/b.jpg"
        try Data("aaaa".utf8).write(to: URL(fileURLWithPath: a))
        try Data("bbbb".utf8).write(to: URL(fileURLWithPath: b))
        let f32 = try DINOv3Model(folder: modelFolder)
        let bf16 = try DINOv3Model(folder: modelFolder, precision: .bf16)
        let base = FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b])
        XCTAssertEqual(base, FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b]))
        var changed: [String: String] = [
            // An f32 run must never read features a bf16 run stored (the key once ignored precision).
            "precision": FeatureStoreKey.make(kind: "tokens", model: bf16, preprocessing: Preprocessing(), blocks: 4, files: [a, b]),
            "kind": FeatureStoreKey.make(kind: "patches", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b]),
            "size": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(size: 448), blocks: 4, files: [a, b]),
            "preset": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(preset: .eval), blocks: 4, files: [a, b]),
            "mean": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(mean: Preprocessing.satelliteMean), blocks: 4, files: [a, b]),
            "blocks": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 1, files: [a, b]),
            "flip": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, flip: true, files: [a, b]),
            "order": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [b, a]),
            "listing": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a]),
            "extra": FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b], extra: ["x"]),
        ]
        try Data("bbbbb".utf8).write(to: URL(fileURLWithPath: b))
        changed["file size"] = FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b])
        try Data("bbbbc".utf8).write(to: URL(fileURLWithPath: b))
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, b, &times, 0), 0)
        let at1 = FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b])
        times = [timespec(tv_sec: 1_000_000, tv_nsec: 5), timespec(tv_sec: 1_000_000, tv_nsec: 5)]
        XCTAssertEqual(utimensat(AT_FDCWD, b, &times, 0), 0)
        changed["modification time"] = FeatureStoreKey.make(kind: "tokens", model: f32, preprocessing: Preprocessing(), blocks: 4, files: [a, b])
        XCTAssertNotEqual(changed["modification time"], at1)
        for (what, key) in changed {
            XCTAssertNotEqual(key, base, "changing the \(what) kept the key")
        }
    }
}
