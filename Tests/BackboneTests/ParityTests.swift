@testable import Backbone
import Foundation
import SafeTensors
import TestSupport
import XCTest

/// The Swift forward pass against `transformers` on checkpoints of every architectural feature.
final class ParityTests: XCTestCase {
    /// Runs a committed case on a fixture model (see `assertParity`).
    func check(model name: String, case caseName: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertParity(DINOv3Model(folder: Fixtures.model(name)), case: caseName, file: file, line: line)
    }

    /// Explicit blocks (Meta's multi-layer heads): block 0 alone against transformers' normed
    /// layer -2, the final tokens unchanged, patch tokens concatenated per patch in block order.
    func testExplicitBlocksAndConcatenatedPatchTokens() throws {
        let model = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        let fixture = try Fixtures.caseFile("gelu_reg4_224")
        let shape = fixture.tensors["pixel_values"]!.shape
        let pixels = try fixture.floats("pixel_values")
        let first = try model.forward(pixels: pixels, batch: shape[0], height: shape[2], width: shape[3], layers: [0])
        XCTAssertEqual(first.layers.count, 1)
        XCTAssertLessThanOrEqual(maxAbsDiff(first.layers[0], try fixture.floats("layer_minus_2")), parityTolerance)
        XCTAssertLessThanOrEqual(maxAbsDiff(first.lastHiddenState, try fixture.floats("last_hidden_state")), parityTolerance)
        let both = try model.forward(pixels: pixels, batch: shape[0], height: shape[2], width: shape[3], layers: [0, 1])
        let concatenated = both.concatenatedPatchTokens(0)
        let (n, d) = (both.gridHeight * both.gridWidth, both.dim)
        XCTAssertEqual(concatenated.count, n * 2 * d)
        let zero = Array(both.patchTokens(0, layer: both.layers[0])), one = Array(both.patchTokens(0, layer: both.layers[1]))
        for p in [0, 7, n - 1] {
            XCTAssertEqual(Array(concatenated[(p * 2 * d)..<(p * 2 * d + d)]), Array(zero[(p * d)..<((p + 1) * d)]))
            XCTAssertEqual(Array(concatenated[(p * 2 * d + d)..<((p + 1) * 2 * d)]), Array(one[(p * d)..<((p + 1) * d)]))
        }
        for bad in [[], [1, 0], [0, 0], [2], [-1]] {
            XCTAssertThrowsError(try model.forward(pixels: pixels, batch: shape[0], height: shape[2], width: shape[3], layers: bad), "\(bad)")
        }
    }

    func testGELUWithFourRegistersAt224() throws { try check(model: "gelu_reg4", case: "gelu_reg4_224") }
    func testNonSquareInputBatchOfTwo() throws { try check(model: "gelu_reg4", case: "gelu_reg4_nonsquare_b2") }
    /// 1,029 tokens: the fused kernel's online softmax over tiles of keys.
    func testAttentionOverTilesOfKeysAt512() throws { try check(model: "gelu_reg4", case: "gelu_reg4_512") }
    func testGatedSiLUMLP() throws { try check(model: "gated_silu", case: "gated_silu_64") }
    func testNoQueryValueBiasHeadDim128StoredAsF16() throws { try check(model: "noqv_hd128_f16", case: "noqv_hd128_f16_48x80") }
    func testZeroRegisters() throws { try check(model: "reg0", case: "reg0_64") }
    func testBF16Weights() throws { try check(model: "bf16", case: "bf16_64") }
    func testShardedCheckpointWithKeyBias() throws { try check(model: "sharded", case: "sharded_64x32") }

    func testTokenArithmeticAt224() throws {
        let model = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        let output = try model.forward(pixels: [Float](repeating: 0.1, count: 3 * 224 * 224), batch: 1, height: 224, width: 224)
        XCTAssertEqual(output.tokens, 201)
        XCTAssertEqual(output.patchTokens(0).count, 196 * 48)
        XCTAssertEqual(output.registerTokens(0).count, 4 * 48)
    }
}

/// The opt-in bf16 path runs and stays close to float32 (its drift is the price of the speed).
final class PrecisionTests: XCTestCase {
    func testBF16ForwardDriftsLittleFromFloat32() throws {
        let f32 = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        let bf16 = try DINOv3Model(folder: Fixtures.model("gelu_reg4"), precision: .bf16)
        let fixture = try Fixtures.caseFile("gelu_reg4_224")
        let pixels = try fixture.floats("pixel_values")
        let a = try f32.forward(pixels: pixels, batch: 1, height: 224, width: 224).lastHiddenState
        let b = try bf16.forward(pixels: pixels, batch: 1, height: 224, width: 224).lastHiddenState
        let meanAbs = zip(a, b).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(a.count)
        let scale = a.map { Double(abs($0)) }.reduce(0, +) / Double(a.count)
        print("bf16 drift on gelu_reg4_224: mean abs \(meanAbs) (mean |value| \(scale))")
        XCTAssertGreaterThan(meanAbs, 0)            // it really ran in bf16
        XCTAssertLessThan(meanAbs / scale, 0.05)    // and stayed within a few percent
    }
}
