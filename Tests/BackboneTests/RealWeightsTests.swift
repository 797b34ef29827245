@testable import Backbone
import Foundation
import TestSupport
import XCTest
import Images

/// The real ViT-S/16 against golden values measured with `transformers` on the published checkpoint
/// and the COCO val2017 image 000000039769.jpg (the values below). Runs only where
/// the gated weights and the COCO image are present; otherwise it says plainly that it skipped.
final class RealWeightsTests: XCTestCase {
    func testRealViTS16GoldenValues() throws {
        let folder: URL
        do {
            folder = try ModelLocator.resolve(ModelLocator.defaultModelID)
        } catch {
            throw XCTSkip("SKIPPED: real ViT-S/16 weights (\(ModelLocator.defaultModelID)) not found in the Hugging Face cache or $DINOPROBE_MODEL; golden-value check not run")
        }
        let env = ProcessInfo.processInfo.environment
        let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [env["DINOPROBE_COCO_IMAGE"], repoRoot.appendingPathComponent("datasets/000000039769.jpg").path].compactMap { $0 }
        guard let image = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("SKIPPED: COCO val2017 image 000000039769.jpg not found (set DINOPROBE_COCO_IMAGE or put it in datasets/)")
        }
        let model = try DINOv3Model(folder: folder)
        let input = try Preprocessing().apply(try ImageDecoder.decode(path: image))
        let out = try model.forward(pixels: input.pixels, batch: 1, height: input.height, width: input.width)
        XCTAssertEqual(out.tokens, 201)
        let cls: [Float] = [0.4637, -0.4160, 0.4086, -0.1265, -0.2865]
        let patch: [Float] = [-0.0386, -0.2509, -0.0161, -0.4556, 0.5716]
        // The golden values are printed to 4 decimals: allow their rounding plus 1e-4.
        XCTAssertLessThanOrEqual(maxAbsDiff(Array(out.cls(0).prefix(5)), cls), 1.5e-4)
        XCTAssertLessThanOrEqual(maxAbsDiff(Array(out.patchTokens(0).prefix(5)), patch), 1.5e-4)
    }
}
