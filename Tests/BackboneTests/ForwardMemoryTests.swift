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
        XCTAssertGreaterThan(large, 12 * small, "16 times the patches")
        XCTAssertLessThan(large, 17 * small, "the fused kernel keeps no per-image attention scores")
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 64, width: 64), ForwardMemory.defaultMaxBatch)
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 256, width: 256, budget: large * 5 + 1), 5)
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 4096, width: 4096, budget: 1), 1)
        XCTAssertGreaterThan(ForwardMemory.bytesPerImage(model, height: 64, width: 64, layers: 4), small)
    }

    func testViTS16Figures() {
        // ViT-S/16: 6 heads, D 384, MLP 1536, 4 registers.
        var config = DINOv3Config()
        config.numRegisterTokens = 4
        let at224 = ForwardMemory.vitBytes(config, height: 224, width: 224, layers: 1, fusedAttention: false)
        let at448 = ForwardMemory.vitBytes(config, height: 448, width: 448, layers: 1, fusedAttention: false)
        // Attention in ATen ops: measured peak RSS grows by 61-70 MB per image at 448.
        XCTAssert((60_000_000...80_000_000).contains(at448), "\(at448)")
        XCTAssertGreaterThanOrEqual(ForwardMemory.defaultBudget / at224, 32, "224 keeps batch 32")
        XCTAssertEqual(ForwardMemory.defaultBudget / at448, 7)
        // The fused CPU kernel: extract grew by 48 MB per image between batch 8 and 16 at 448.
        let fused448 = ForwardMemory.vitBytes(config, height: 448, width: 448, layers: 1, fusedAttention: true)
        XCTAssert((40_000_000...50_000_000).contains(fused448), "\(fused448)")
        XCTAssertEqual(ForwardMemory.defaultBudget / fused448, 11)
        XCTAssertGreaterThanOrEqual(ForwardMemory.defaultBudget / ForwardMemory.vitBytes(config, height: 224, width: 224, layers: 1, fusedAttention: true), 32)
    }
}
