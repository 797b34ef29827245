@testable import Backbone
import Foundation
import SafeTensors
import XCTest

/// Strict loading, key prefixes and where models are looked for.
final class CheckpointTests: XCTestCase {
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    /// Copies the gelu_reg4 fixture to a temp folder, rewriting its tensors through `edit`.
    func rewrittenModel(_ edit: (inout [(String, [Float], [Int])]) -> Void) throws -> URL {
        let source = Fixtures.model("gelu_reg4")
        let folder = temp.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: source.appendingPathComponent("model.safetensors").path)
        var tensors = try file.tensors.keys.sorted().map { ($0, try file.floats($0), file.tensors[$0]!.shape) }
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for (name, values, shape) in tensors { try writer.add(name, floats: values, shape: shape) }
        try writer.write(to: folder.appendingPathComponent("model.safetensors").path)
        return folder
    }

    func testModelPrefixIsTolerated() throws {
        let folder = try rewrittenModel { tensors in tensors = tensors.map { ("model." + $0.0, $0.1, $0.2) } }
        let model = try DINOv3Model(folder: folder)
        let reference = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        XCTAssertEqual(model.parameterCount, reference.parameterCount)
        let pixels: [Float] = (0..<(3 * 32 * 32)).map { (i: Int) -> Float in Float(i % 17) / 17 - 0.5 }
        XCTAssertEqual(try model.forward(pixels: pixels, batch: 1, height: 32, width: 32).lastHiddenState,
                       try reference.forward(pixels: pixels, batch: 1, height: 32, width: 32).lastHiddenState)
    }

    func testMissingTensorIsNamedWithItsShape() throws {
        let folder = try rewrittenModel { $0.removeAll { $0.0 == "layer.1.mlp.up_proj.weight" } }
        XCTAssertThrowsError(try DINOv3Model(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("layer.1.mlp.up_proj.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains("[96, 48]"), "\(error)")
        }
    }

    func testUnexpectedTensorIsAnError() throws {
        let folder = try rewrittenModel { $0.append(("layer.0.attention.k_proj.bias", [Float](repeating: 0, count: 48), [48])) }
        XCTAssertThrowsError(try DINOv3Model(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("layer.0.attention.k_proj.bias"), "\(error)")
        }
    }

    func testMisShapedTensorNamesBothShapes() throws {
        let folder = try rewrittenModel { tensors in
            if let i = tensors.firstIndex(where: { $0.0 == "norm.weight" }) { tensors[i] = ("norm.weight", [Float](repeating: 1, count: 40), [40]) }
        }
        XCTAssertThrowsError(try DINOv3Model(folder: folder)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("norm.weight") && text.contains("[40]") && text.contains("[48]"), text)
        }
    }

    func testFolderWithoutWeightsSaysWhatToDo() throws {
        try FileManager.default.copyItem(at: Fixtures.model("gelu_reg4").appendingPathComponent("config.json"),
                                         to: temp.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try DINOv3Model(folder: temp)) { error in
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
    }

    func testBadConfigIsReported() throws {
        try Data("{\"model_type\": \"dinov3_convnext\"}".utf8).write(to: temp.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try DINOv3Config.load(from: temp.appendingPathComponent("config.json"))) { error in
            XCTAssertTrue("\(error)".contains("dinov3_convnext"), "\(error)")
        }
        try Data("not json".utf8).write(to: temp.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try DINOv3Config.load(from: temp.appendingPathComponent("config.json")))
    }

    func testOlderSwiGLUKeyAndUnknownKeys() throws {
        let json = #"{"model_type": "dinov3_vit", "use_swiglu_ffn": true, "hidden_act": "silu", "something_new": [1, 2]}"#
        let config = try JSONDecoder().decode(DINOv3Config.self, from: Data(json.utf8))
        XCTAssertTrue(config.useGatedMLP)
        XCTAssertEqual(config.hiddenSize, 384)
        XCTAssertEqual(config.numRegisterTokens, 0)
    }

    func testHubIdIsFoundInTheHuggingFaceCache() throws {
        let repo = temp.appendingPathComponent("hub/models--facebook--dinov3-vits16-pretrain-lvd1689m")
        let snapshot = repo.appendingPathComponent("snapshots/abc123")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data("abc123".utf8).write(to: repo.appendingPathComponent("refs/main"))
        try Data("{}".utf8).write(to: snapshot.appendingPathComponent("config.json"))
        let env = ["HF_HOME": temp.path, "HOME": temp.path]
        XCTAssertEqual(try ModelLocator.resolve(nil, environment: env).path, snapshot.path)
        XCTAssertEqual(try ModelLocator.resolve(nil, environment: ["HF_HUB_CACHE": temp.appendingPathComponent("hub").path, "HOME": "/nonexistent"]).path,
                       snapshot.path)
        // $DINOPROBE_MODEL names a folder.
        XCTAssertEqual(try ModelLocator.resolve(nil, environment: ["DINOPROBE_MODEL": Fixtures.model("reg0").path]).path,
                       Fixtures.model("reg0").standardizedFileURL.path)
    }

    func testMissingWeightsErrorTellsHowToGetThemAndWhereItLooked() {
        XCTAssertThrowsError(try ModelLocator.resolve("facebook/dinov3-vitb16-pretrain-lvd1689m",
                                                      environment: ["HF_HUB_CACHE": temp.path, "HOME": temp.path])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("request access"), text)
            XCTAssertTrue(text.contains("huggingface-cli login"), text)
            XCTAssertTrue(text.contains(self.temp.path), text)
            XCTAssertTrue(text.contains("models--facebook--dinov3-vitb16-pretrain-lvd1689m"), text)
        }
    }

    func testCUDAOnCPUOnlyLibtorchIsAClearError() throws {
        try XCTSkipIf(Torch.cudaAvailable, "this libtorch has CUDA")
        XCTAssertThrowsError(try DINOv3Model(folder: Fixtures.model("reg0"), device: .cuda)) { error in
            XCTAssertTrue("\(error)".contains("run on the CPU"), "\(error)")
        }
    }

    func testInputSidesMustBeMultiplesOfThePatch() throws {
        let model = try DINOv3Model(folder: Fixtures.model("reg0"))
        XCTAssertThrowsError(try model.forward(pixels: [Float](repeating: 0, count: 3 * 20 * 32), batch: 1, height: 20, width: 32))
    }

    func testParameterCountAndCompute() throws {
        let model = try DINOv3Model(folder: Fixtures.model("gelu_reg4"))
        // 75,312 = every tensor of the checkpoint, as transformers' sum(p.numel()).
        XCTAssertEqual(model.parameterCount, 75_312)
        // ViT-S/16 at 224: ~4.7 G multiply-adds, 9.4 GFLOPs (docs/protocols.md, section 7).
        let cost = ComputeCost(config: .vitS16, height: 224, width: 224)
        XCTAssertEqual(cost.tokens, 201)
        XCTAssertEqual(Double(cost.multiplyAdds) / 1e9, 4.70, accuracy: 0.01)
        XCTAssertEqual(Double(cost.flops) / 1e9, 9.40, accuracy: 0.02)
    }
}
