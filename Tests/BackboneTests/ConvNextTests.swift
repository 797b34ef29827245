@testable import Backbone
import Foundation
import SafeTensors
import XCTest

/// DINOv3 ConvNeXts against `transformers`' DINOv3ConvNextModel (random tiny models of two sizes
/// from scripts/make_convnext_fixtures.py): pooled output and the last stage's map, 1e-4.
final class ConvNextTests: XCTestCase {
    func testSmallConvNextAt64() throws { try assertParity(DINOv3Model(folder: Fixtures.model("convnext_a")), case: "convnext_a_64") }

    func testNonSquareBatchOfTwo() throws {
        try assertParity(DINOv3Model(folder: Fixtures.model("convnext_a")), case: "convnext_a_96x160_b2")
    }

    func testOtherWidthsAndDepthsStoredAsBF16() throws {
        try assertParity(DINOv3Model(folder: Fixtures.model("convnext_b_bf16")), case: "convnext_b_bf16_128")
    }

    /// What feature code sees: stride-32 "patches", the pooled feature as CLS, one block, no registers.
    func testFeatureViewAndDescription() throws {
        let model = try DINOv3Model(folder: Fixtures.model("convnext_a"))
        XCTAssertEqual(model.convNextConfig?.hiddenSizes, [16, 24, 32, 48])
        XCTAssertEqual(model.config.patchSize, 32)
        XCTAssertEqual(model.config.hiddenSize, 48)
        XCTAssertEqual(model.config.numHiddenLayers, 1)
        XCTAssertEqual(model.config.numRegisterTokens, 0)
        XCTAssertTrue(model.variantName.hasPrefix("ConvNeXt (widths [16, 24, 32, 48]"), model.variantName)
        let out = try model.forward(pixels: [Float](repeating: 0.2, count: 3 * 96 * 64), batch: 1, height: 96, width: 64)
        XCTAssertEqual([out.gridHeight, out.gridWidth, out.tokens, out.registers], [3, 2, 7, 0])
        XCTAssertThrowsError(try model.forward(pixels: [Float](repeating: 0, count: 3 * 48 * 48), batch: 1, height: 48, width: 48))
        XCTAssertThrowsError(try model.forward(pixels: [], batch: 1, height: 64, width: 64, lastLayers: 2))
        var tiny = DINOv3ConvNextConfig()
        XCTAssertEqual(tiny.variantName, "ConvNeXt-T")
        // ConvNeXt-T at 224: about 4.5 G multiply-adds, as published.
        XCTAssertEqual(Double(tiny.multiplyAdds(height: 224, width: 224)) / 1e9, 4.47, accuracy: 0.05)
        tiny.depths[2] = 27
        XCTAssertEqual(tiny.variantName, "ConvNeXt-S")
    }

    /// The checkpoint is checked as strictly as a ViT's: a missing or extra tensor is refused by name.
    func testStrictTensorList() throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-convnext-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temp) }
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        let source = Fixtures.model("convnext_a")
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: temp.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: source.appendingPathComponent("model.safetensors").path)
        var writer = SafeTensorsWriter()
        for name in file.names where name != "stages.2.layers.1.gamma" {
            try writer.add(name, floats: try file.floats(name), shape: file.tensors[name]!.shape)
        }
        try writer.add("stages.2.layers.2.gamma", floats: [Float](repeating: 1, count: 32), shape: [32])
        try writer.write(to: temp.appendingPathComponent("model.safetensors").path)
        XCTAssertThrowsError(try DINOv3Model(folder: temp)) { XCTAssertTrue("\($0)".contains("'stages.2.layers.1.gamma'"), "\($0)") }
    }
}
