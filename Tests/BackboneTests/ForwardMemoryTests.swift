@testable import Backbone
import Foundation
import TestSupport
import XCTest

/// The extraction batch chosen by memory: classification sizes keep the full batch, dense
/// sizes shrink it, never below one image.
final class ForwardMemoryTests: XCTestCase {
    func testBatchFollowsTheBudget() throws {
        let model = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel))
        let small = ForwardMemory.bytesPerImage(model, height: 64, width: 64)
        let large = ForwardMemory.bytesPerImage(model, height: 256, width: 256)
        XCTAssertGreaterThan(large, 16 * small, "attention grows with the square of the tokens")
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 64, width: 64), ForwardMemory.defaultMaxBatch)
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 256, width: 256, budget: large * 5 + 1), 5)
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 4096, width: 4096, budget: 1), 1)
        XCTAssertGreaterThan(ForwardMemory.bytesPerImage(model, height: 64, width: 64, layers: 4), small)
    }

    func testViTS16Figures() {
        // ViT-S/16: 6 heads, D 384, MLP 1536, 4 registers.
        var config = DINOv3Config()
        config.numRegisterTokens = 4
        let at224 = ForwardMemory.vitBytes(config, height: 224, width: 224, layers: 1)
        let at448 = ForwardMemory.vitBytes(config, height: 448, width: 448, layers: 1)
        // Measured peak RSS grows by 61-70 MB per image at 448 (README, Scale).
        XCTAssert((60_000_000...80_000_000).contains(at448), "\(at448)")
        XCTAssertGreaterThanOrEqual(ForwardMemory.defaultBudget / at224, 32, "224 keeps batch 32")
        XCTAssertEqual(ForwardMemory.defaultBudget / at448, 7)
    }
}
