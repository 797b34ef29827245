@testable import Backbone
import Foundation
import Images
import SafeTensors
import TestSupport
import XCTest

/// DINOv3 ConvNeXts against `transformers`' DINOv3ConvNextModel (random tiny models of two sizes
/// from scripts/make_convnext_fixtures.py): pooled output, the last stage's map and every stage's
/// raw map (`hidden_states`), to `parityTolerance`.
final class ConvNextTests: XCTestCase {
    func testSmallConvNextAt64() throws { try assertParity(DINOv3Model(folder: Fixtures.model("convnext_a")), case: "convnext_a_64") }

    func testNonSquareBatchOfTwo() throws {
        try assertParity(DINOv3Model(folder: Fixtures.model("convnext_a")), case: "convnext_a_96x160_b2")
    }

    func testOtherWidthsAndDepthsStoredAsBF16() throws {
        try assertParity(DINOv3Model(folder: Fixtures.model("convnext_b_bf16")), case: "convnext_b_bf16_128")
    }

    /// Every stage's raw map equals transformers' hidden_states[i + 1] in shape and values, in all
    /// three cases (one batch of two, non-square, and bf16-stored weights).
    func testStageMapsMatchHiddenStates() throws {
        var worst: Float = 0
        for (model, caseName) in [("convnext_a", "convnext_a_64"), ("convnext_a", "convnext_a_96x160_b2"), ("convnext_b_bf16", "convnext_b_bf16_128")] {
            worst = max(worst, try assertStageParity(DINOv3Model(folder: Fixtures.model(model)), case: caseName))
        }
        print("parity of ConvNeXt stage maps: max abs diff \(worst)")
    }

    /// Asking some stages gives those alone, as a run of all of them computes them, and leaves the
    /// output as it is; a bad list or a ViT is refused with a BackboneError.
    func testStageSelectionAndRefusals() throws {
        let model = try DINOv3Model(folder: Fixtures.model("convnext_a"))
        let pixels: [Float] = (0..<(2 * 3 * 64 * 96)).map { (i: Int) -> Float in Float((i * 37) % 101) / 50 - 1 }
        func run(_ stages: [Int]) throws -> BackboneOutput {
            try model.forward(pixels: pixels, batch: 2, height: 64, width: 96, layers: [0], stages: stages)
        }
        let all = try run([0, 1, 2, 3]), some = try run([1, 3]), none = try run([])
        XCTAssertEqual(all.stages.map(\.shape), [[2, 16, 16, 24], [2, 24, 8, 12], [2, 32, 4, 6], [2, 48, 2, 3]])
        XCTAssertEqual(some.stages.map(\.stage), [1, 3])
        XCTAssertEqual(some.stages.map(\.values), [all.stages[1].values, all.stages[3].values])
        XCTAssertEqual(Array(all.stages[2].image(1)), Array(all.stages[2].values[(32 * 4 * 6)...]))
        XCTAssertTrue(none.stages.isEmpty)
        XCTAssertEqual(all.lastHiddenState, none.lastHiddenState)
        XCTAssertEqual(try model.convNextConfig?.stageShape(2, height: 64, width: 96), [32, 4, 6])
        for bad in [[3, 1], [0, 0], [4], [-1]] {
            XCTAssertThrowsError(try run(bad)) { XCTAssertTrue($0 is BackboneError && "\($0)".contains("ascending"), "\(bad): \($0)") }
        }
        let vit = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        XCTAssertThrowsError(try vit.forward(pixels: [Float](repeating: 0, count: 3 * 64 * 64), batch: 1, height: 64, width: 64, layers: [0], stages: [0])) {
            XCTAssertTrue($0 is BackboneError && "\($0)".contains("only ConvNeXts have stages"), "\($0)")
        }
        XCTAssertThrowsError(try FeatureExtractor(model: vit, preprocessing: Preprocessing(size: 64), stages: [3]))
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

/// Runs a committed ConvNeXt case asking every stage and checks the maps against the stored
/// hidden_states (all values, or every `stage_step`-th of each flattened map, as stored); returns
/// the largest abs difference.
func assertStageParity(_ model: DINOv3Model, case caseName: String, file: StaticString = #filePath, line: UInt = #line) throws -> Float {
    let fixture = try Fixtures.caseFile(caseName)
    let shape = try XCTUnwrap(fixture.tensors["pixel_values"]?.shape)
    let output = try model.forward(pixels: try fixture.floats("pixel_values"), batch: shape[0], height: shape[2], width: shape[3],
                                   layers: [0], stages: [0, 1, 2, 3])
    let step = try XCTUnwrap(Int(fixture.metadata["stage_step"] ?? ""))
    let shapes = try JSONDecoder().decode([[Int]].self, from: Data(XCTUnwrap(fixture.metadata["stage_shapes"]).utf8))
    XCTAssertEqual(output.stages.map(\.shape), shapes, caseName, file: file, line: line)
    var worst: Float = 0
    for map in output.stages {
        let expected = try fixture.floats("stage_\(map.stage)")
        let ours = stride(from: 0, to: map.values.count, by: step).map { map.values[$0] }
        XCTAssertEqual(ours.count, expected.count, "\(caseName) stage \(map.stage)", file: file, line: line)
        guard ours.count == expected.count else { continue }
        let diff = maxAbsDiff(ours, expected)
        XCTAssertLessThanOrEqual(diff, parityTolerance, "\(caseName): stage \(map.stage) max abs diff \(diff)", file: file, line: line)
        // A wrong map would be far off: make sure the values are not trivially small.
        XCTAssertGreaterThan(expected.map(abs).max() ?? 0, 0.5, file: file, line: line)
        worst = max(worst, diff)
    }
    print("parity \(caseName): stage maps max abs diff \(worst)")
    return worst
}
