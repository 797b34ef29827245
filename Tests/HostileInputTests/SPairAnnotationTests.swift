import Backbone
import Foundation
import Heads
import ImagePreprocessing
import Images
import SafeTensors
import Support
import TestSupport
import Training
import XCTest

/// SPair-71k pair files (issue 30): every coordinate is checked against its image, names stay
/// inside the root, sizes are bounded; a bad pair is skipped by name with the reason and the
/// good ones are still used.
final class SPairAnnotationTests: HostileTestCase {
    /// `data/JPEGImages/cat/{a,b}.jpg` (40x30, 50x20) and a secret image outside the root.
    func layout() throws -> String {
        for (name, w, h) in [("a", 40, 30), ("b", 50, 20)] {
            let image = try RGBImage(width: w, height: h, pixels: [UInt8](repeating: 128, count: w * h * 3))
            try write("data/JPEGImages/cat/\(name).jpg", JPEGEncoder.encode(image))
        }
        try write("outside/secret.jpg", try JPEGEncoder.encode(try RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 0, count: 192))))
        return temp + "/data"
    }

    func pair(_ fields: [String: String]) -> String {
        let base = ["category": "\"cat\"", "src_imname": "\"a.jpg\"", "trg_imname": "\"b.jpg\"", "src_kps": "[[1, 2], [39, 29]]",
                    "trg_kps": "[[3, 4], [49, 19]]", "src_bndbox": "[0, 0, 40, 30]", "trg_bndbox": "[5, 2, 30, 18]"]
        return "{" + base.merging(fields) { $1 }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    func load(_ pairs: [String: String]) throws -> (pairs: [KeypointPair], skipped: [SkippedInput]) {
        let root = try layout()
        for (name, text) in pairs { try write("data/PairAnnotation/test/\(name).json", text) }
        return try SPairData.load(root: root, split: "test", categories: nil, limit: nil)
    }

    func testBadPairsAreSkippedByNameWithTheReason() throws {
        let cases: [String: (String, String)] = [
            "nan": (pair(["src_kps": "[[NaN, 2], [3, 4]]"]), "not valid JSON"),
            "huge": (pair(["trg_kps": "[[1e400, 2], [3, 4]]"]), "not a finite number"),
            "outside": (pair(["trg_kps": "[[3, 4], [50, 19]]"]), "outside the 50x20 image"),
            "negative": (pair(["src_kps": "[[-1, 2], [3, 4]]"]), "outside the 40x30 image"),
            "count": (pair(["trg_kps": "[[3, 4]]"]), "src_kps has 2 keypoints but trg_kps has 1"),
            "box": (pair(["trg_bndbox": "[5, 2, 51, 18]"]), "trg_bndbox"),
            "flatbox": (pair(["src_bndbox": "[5, 2, 5, 18]"]), "src_bndbox"),
            "escape": (pair(["category": "\"..\"", "src_imname": "\"outside/secret.jpg\""]), "plain name"),
            "climb": (pair(["category": "\"..\""]), "'..'"),
            "missing": (pair(["trg_imname": "\"nothere.jpg\""]), "nothere.jpg"),
            "imsize": (pair(["src_imsize": "[41, 30, 3]"]), "src_imsize says 41x30 but the image is 40x30"),
            "hidden": (pair(["src_kps": "[null, [3, 4]]", "trg_kps": "[[3, 4], null]"]), "no keypoint is visible in both"),
            "big": (pair(["note": "\"" + String(repeating: "x", count: 1 << 20) + "\""]), "bytes allowed"),
        ]
        let loaded = try load(cases.mapValues(\.0).merging(["good": pair([:])]) { $1 })
        XCTAssertEqual(loaded.pairs.map(\.name), ["good"])
        XCTAssertEqual(loaded.skipped.count, cases.count)
        for (name, (_, reason)) in cases {
            guard let skip = loaded.skipped.first(where: { $0.path.hasSuffix("/\(name).json") }) else { XCTFail("\(name) not skipped"); continue }
            XCTAssertTrue(skip.reason.contains(reason), "\(name): expected '\(reason)' in: \(skip.reason)")
        }
    }

    func testOnlyKeypointsVisibleInBothImagesCount() throws {
        let loaded = try load(["p": pair(["src_kps": "[[1, 2], null, [5, 6], [7, 8]]", "trg_kps": "[[3, 4], [9, 9], null, [10, 11]]"])])
        let p = try XCTUnwrap(loaded.pairs.first)
        XCTAssertEqual(p.sourceKeypoints.map { [$0.x, $0.y] }, [[1, 2], [7, 8]])
        XCTAssertEqual(p.targetKeypoints.map { [$0.x, $0.y] }, [[3, 4], [10, 11]])
        XCTAssertEqual(p.boxSide, 25)
    }

    func testCategoriesAndLimitSelectPairsInNameOrder() throws {
        let loaded = try load(["c": pair([:]), "a": pair([:]), "b": pair([:]), "d": pair(["category": "\"dog\""])])
        XCTAssertEqual(loaded.pairs.count, 3, "the dog pair has no images: \(loaded.skipped)")
        let root = temp + "/data"
        XCTAssertEqual(try SPairData.load(root: root, split: "test", categories: ["cat"], limit: 2).pairs.map(\.name), ["a", "b"])
        XCTAssertThrowsError(try SPairData.load(root: root, split: "train", categories: nil, limit: nil))
    }

    /// An image of extreme aspect ratio would be padded to a square far larger than itself: the
    /// padded size is held to --max-pixels before anything is allocated.
    func testAPaddedSquareOverThePixelLimitIsRefused() throws {
        let strip = try write("strip.jpg", JPEGEncoder.encode(try RGBImage(width: 400, height: 2, pixels: [UInt8](repeating: 9, count: 2400))))
        let model = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel))
        assertRefused(try CorrespondenceRun.patchTokens(of: strip, model: model, size: 32, maxPixels: 10_000), ["padded to a square", "400x400"])
    }

    /// A damaged or foreign keypoint-grid cache entry (garbage, a NaN feature; in the current format,
    /// an image size that `maxPixels` would not admit, one whose pixel count overflows and would trap
    /// the similarity maps, another grid or feature width) is removed and made again, never used.
    func testADamagedGridCacheEntryIsRebuilt() throws {
        let image = try write("img.jpg", JPEGEncoder.encode(try RGBImage(width: 20, height: 12, pixels: (0..<720).map { UInt8($0 % 251) })))
        let model = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel))
        let store = KeypointGridStore(folder: temp + "/cache")
        let fresh = try store.grid(of: image, model: model, size: 32, maxPixels: 1 << 20, reporter: SilentReporter())
        let entry = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: temp + "/cache").first { $0.hasPrefix("keypoints-") })
        var nan = SafeTensorsWriter(metadata: ["format": "dinoprobe-keypoint-grid-v1", "width": "20", "height": "12"])
        try nan.add("patch_tokens", floats: [Float](repeating: .nan, count: fresh.features.count), shape: [fresh.grid, fresh.grid, fresh.dim])
        func current(grid: Int, dim: Int, width: Int, height: Int) throws {
            let writer = try FeaturesFile.Writer(destination: temp + "/cache/" + entry, dim: dim, layers: 1, registers: 0, patchTokens: true,
                                                 dtype: .f32, pooled: false)
            try writer.append(path: image, patchTokens: ([Float](repeating: 1, count: grid * grid * dim)[...], grid, grid))
            try writer.finish(source: FeatureSource(backboneID: "tiny", backboneFingerprint: model.fingerprint, preprocessing: .init(preset: .hf, size: 32)),
                              skipped: [], extraMetadata: ["width": "\(width)", "height": "\(height)"])
        }
        let (g, d) = (fresh.grid, fresh.dim)
        let damages: [() throws -> Void] = [{ try self.write("cache/" + entry, "garbage") }, { try nan.write(to: self.temp + "/cache/" + entry) },
                                            { try current(grid: g, dim: d, width: Int.max / 2, height: 12) },
                                            { try current(grid: g, dim: d, width: 2048, height: 2048) },
                                            { try current(grid: g + 1, dim: d, width: 20, height: 12) }, { try current(grid: g, dim: d + 1, width: 20, height: 12) }]
        for (n, damage) in damages.enumerated() {
            try damage()
            let again = try store.grid(of: image, model: model, size: 32, maxPixels: 1 << 20, reporter: SilentReporter())
            XCTAssertTrue(again.features == fresh.features, "damage \(n)")
            XCTAssertEqual([again.imageWidth, again.imageHeight], [20, 12], "damage \(n)")
        }
    }

}
