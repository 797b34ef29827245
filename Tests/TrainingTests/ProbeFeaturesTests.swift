import Foundation
import Heads
import Images
import Support
@testable import Training
import XCTest

/// The probe features glue the CLI hands to the library: a pair of features files, and the augmentation note.
final class ProbeFeaturesTests: XCTestCase {
    func testAFeaturesFilePairIsReadWithTrainsClassesAndMismatchesRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-probe-\(UUID().uuidString)").path
        try FileSystem.createDirectories(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func write(_ name: String, paths: [String], fingerprint: String) throws -> String {
            let features = try TokenFeatures(count: paths.count, dim: 2, blocks: 1, cls: (0..<2 * paths.count).map(Float.init),
                                             meanPatch: Array(repeating: 0, count: 2 * paths.count))
            let source = FeatureSource(backboneID: "tiny", backboneFingerprint: fingerprint, preprocessing: Preprocessing(size: 32))
            let path = "\(folder)/\(name).safetensors"
            try FeatureCache.write(FeatureCache.Entry(features: features, sourceIndex: Array(paths.indices), skipped: []), paths: paths,
                                   source: source, to: path)
            return path
        }
        let train = try write("train", paths: ["/d/a/1.jpg", "/d/b/2.jpg"], fingerprint: "fp")
        let val = try write("val", paths: ["/v/b/3.jpg"], fingerprint: "fp")
        let pair = try ProbeFeatures.read(trainFile: train, valFile: val)
        XCTAssertEqual(pair.train.labels, [0, 1])
        XCTAssertEqual(pair.val.labels, [1], "val is labelled with train's classes")
        let other = try write("other", paths: ["/v/a/4.jpg"], fingerprint: "another")
        XCTAssertThrowsError(try ProbeFeatures.read(trainFile: train, valFile: other))
    }

    func testTheAugmentationNoteSaysTheTransformAndTheCount() {
        XCTAssertEqual(ProbeFeatures.augmentationNote(views: 3, crop: RandomResizedCrop(size: 32), rows: 12, seconds: 1.25),
                       "3 views per training image (RandomResizedCrop 32, scale 0.08-1, ratio 3/4-4/3, bicubic, flip 0.5): 12 rows, 1.2 s to extract or load")
    }
}
