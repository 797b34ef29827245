import Backbone
import Foundation
import Heads
import Images
import Support
@testable import Training
import XCTest

/// Odd image sizes through the dense paths (thin, tiny, elongated, not multiples of the patch
/// or of the stride, EXIF-rotated): a result at the image's upright size, or a skip with a reason.
final class DenseImageSizeTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BackboneTests/Fixtures")

    func testOddSizesGiveMapsAtTheUprightSizeOrASkipWithAReason() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-sizes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // width x height; the last is stored 160x90 with EXIF orientation 6 (upright 90x160).
        let sizes = [(1, 1), (1, 40), (40, 1), (15, 15), (17, 33), (3, 2), (400, 17), (90, 160)]
        let paths = try sizes.dropLast().map { w, h in
            let path = "\(root)/\(w)x\(h).png"
            try PNGEncoder.write(RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8(($0 * 37) % 256) }), to: path)
            return path
        } + [fixtures.appendingPathComponent("images/exif_rot6_160x90.jpg").path]
        let model = try DINOv3Model(folder: fixtures.appendingPathComponent("models/gelu_reg4"))
        var random = SeededRandom(seed: 3)
        let metadata = HeadMetadata(kind: .depth, featureRecipe: FeatureRecipe.dense(resolution: 32).key, backboneFingerprint: model.fingerprint)
        let head = try DepthHead(channels: model.config.hiddenSize, recipe: DepthHeadRecipe(), metadata: metadata, random: &random)
        for inference in try [DenseInference.whole, .slide(SlidingWindow(crop: 48, stride: 20))] {
            for flip in [false, true] {
                var done: [Int] = [], skipped: [Int: String] = [:]
                try ImageDepth.run(head: head, model: model, paths: paths, stems: paths.indices.map { "\(root)/out\($0).\(flip)" }, inference: inference, flip: flip,
                                   onFailure: { skipped[$0.index ?? -1] = $0.reason }) { i, result in
                    XCTAssertEqual([result.width, result.height], [sizes[i].0, sizes[i].1], "\(inference.name) \(sizes[i])")
                    XCTAssertTrue(result.nearest.isFinite && result.farthest.isFinite)
                    done.append(i)
                }
                // Whole resizes every image to the square; slide keeps the aspect ratio and refuses the too elongated.
                XCTAssertEqual(done.sorted(), inference == .whole ? Array(0..<8) : [0, 3, 4, 5, 7], inference.name)
                XCTAssertTrue(skipped.values.allSatisfy { $0.contains("aspect ratio") }, "\(skipped)")
            }
        }
    }
}
