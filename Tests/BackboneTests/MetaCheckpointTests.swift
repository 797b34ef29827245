@testable import Backbone
import Foundation
import SafeTensors
import TestSupport
import TorchFile
import XCTest

/// Meta's original `.pth` layout (fixtures from scripts/make_pth_fixtures.py: the committed tiny
/// transformers models saved by the inverse of the published conversion; Meta's own model code
/// reproduces their expected features).
final class MetaCheckpointTests: XCTestCase {
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    /// A GELU model with 4 registers and float32 periods: transformers' features on the
    /// original checkpoint, at 224 and on a non-square batch of two (`parityTolerance`).
    func testGELUPthMatchesTransformers() throws {
        let model = try DINOv3Model(folder: Fixtures.pth("gelu_reg4"))
        XCTAssertTrue(model.usesStoredRoPEPeriods)
        try assertParity(model, case: "gelu_reg4_224")
        try assertParity(model, case: "gelu_reg4_nonsquare_b2")
    }

    /// SwiGLU with Meta's bf16-rounded periods stored as BF16: the features use the stored
    /// periods (`parityTolerance` from transformers with inv_freq = 1 / periods, which is what Meta's model
    /// computes) and so differ from transformers' recomputed ones by more than 1e-3.
    func testSwiGLUPthUsesItsStoredBF16Periods() throws {
        let model = try DINOv3Model(folder: Fixtures.pth("gated_silu"))
        try assertParity(model, case: "gated_silu_meta_64")
        let recomputed = try Fixtures.caseFile("gated_silu_64")
        let output = try model.forward(pixels: try recomputed.floats("pixel_values"), batch: 1, height: 64, width: 64)
        XCTAssertGreaterThan(maxAbsDiff(output.lastHiddenState, try recomputed.floats("last_hidden_state")), 1e-3)
    }

    /// The architecture read from the shapes is the original config.json, and the parameter
    /// count is the Hugging Face model's (the k bias masked away, the periods not counted).
    func testArchitectureIsReadFromTheTensors() throws {
        for name in ["gelu_reg4", "gated_silu"] {
            let meta = try DINOv3Model(folder: Fixtures.pth(name))
            let original = try DINOv3Model(folder: Fixtures.model(name))
            XCTAssertEqual(meta.config, original.config, name)
            XCTAssertEqual(meta.parameterCount, original.parameterCount, name)
            XCTAssertNotEqual(meta.fingerprint, original.fingerprint, name)
        }
    }

    /// `convert` writes the original Hugging Face checkpoint back: the same tensor names,
    /// shapes, dtypes and bytes (bit-exact) and an equal config; the folder then loads with
    /// transformers' recomputed periods (parity with the original case, `parityTolerance`).
    func testConversionGivesBackTheHuggingFaceCheckpoint() throws {
        for (name, caseName) in [("gelu_reg4", "gelu_reg4_224"), ("gated_silu", "gated_silu_64")] {
            let out = temp.appendingPathComponent(name)
            let summary = try MetaConversion.convert(Fixtures.pth(name), to: out, arch: nil, overwrite: false)
            let expected = try SafeTensorsFile(path: Fixtures.model(name).appendingPathComponent("model.safetensors").path)
            let written = try SafeTensorsFile(path: out.appendingPathComponent("model.safetensors").path)
            XCTAssertEqual(Set(written.names), Set(expected.names), name)
            XCTAssertEqual(summary.tensors, expected.names.count)
            for key in expected.names {
                XCTAssertEqual(written.tensors[key]?.shape, expected.tensors[key]?.shape, key)
                XCTAssertEqual(written.tensors[key]?.dtype, expected.tensors[key]?.dtype, key)
                XCTAssertEqual(try written.withBytes(of: key) { Array($0) }, try expected.withBytes(of: key) { Array($0) }, "\(name): \(key)")
            }
            let config = try DINOv3Config.load(from: out.appendingPathComponent("config.json"))
            XCTAssertEqual(config, try DINOv3Config.load(from: Fixtures.model(name).appendingPathComponent("config.json")))
            let converted = try DINOv3Model(folder: out)
            XCTAssertFalse(converted.usesStoredRoPEPeriods)
            try assertParity(converted, case: caseName)
            XCTAssertThrowsError(try MetaConversion.convert(Fixtures.pth(name), to: out, arch: nil, overwrite: false)) {
                XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
            }
        }
    }

    /// The fixture's tensors re-saved with `edit` applied, under `fileName`.
    func resaved(_ fileName: String, from name: String = "gelu_reg4", edit: (inout [TorchSave.Saved]) -> Void) throws -> URL {
        var tensors = try TorchSave.tensors(of: Fixtures.pth(name).path)
        edit(&tensors)
        let url = temp.appendingPathComponent(fileName)
        try TorchSave.stateDict(tensors).write(to: url)
        return url
    }

    /// Without stored periods the head count comes from --arch or the file name; an --arch that
    /// contradicts the tensors, or no way to know, is refused with a message saying what to do.
    func testHeadCountWithoutPeriods() throws {
        let noPeriods = try resaved("tiny.pth") { $0.removeAll { $0.name == "rope_embed.periods" } }
        XCTAssertThrowsError(try DINOv3Model(folder: noPeriods)) { XCTAssertTrue("\($0)".contains("--arch"), "\($0)") }
        XCTAssertThrowsError(try DINOv3Model(folder: noPeriods, arch: .vits16)) {
            XCTAssertTrue("\($0)".contains("--arch vits16 is a ViT-S/16, but the file holds"), "\($0)")
        }
        // A released model's name is believed only when the tensors agree with it (width 48 is no ViT-S).
        let named = try resaved("dinov3_vits16_pretrain_lvd1689m-0.pth") { tensors in tensors.removeAll { $0.name == "rope_embed.periods" } }
        XCTAssertThrowsError(try DINOv3Model(folder: named)) { XCTAssertTrue("\($0)".contains("--arch"), "\($0)") }
        XCTAssertEqual(MetaArchitecture(fileName: "dinov3_vith16plus_pretrain_lvd1689m-7c1da9a5.pth"), .vith16plus)
        XCTAssertEqual(MetaArchitecture(fileName: "dinov3_vit7b16_pretrain_sat493m-a6675841.pth"), .vit7b16)
        XCTAssertNil(MetaArchitecture(fileName: "model.pth"))
    }

    /// A released model's name supplies the head count when the periods are absent (ViT-S/16:
    /// 6 heads; zero weights, Meta's names built from the Hugging Face ones).
    func testHeadCountFromTheFileName() throws {
        let config = MetaArchitecture.vits16.config
        var shapes: [String: [Int]] = [:]
        for (name, shape) in config.tensorShapes {
            let (meta, third) = MetaLayout.metaName(of: name, gated: false)
            shapes[meta] = name == "embeddings.mask_token" ? [1, config.hiddenSize] : third == nil ? shape : [3 * shape[0]] + shape.dropFirst()
        }
        let tensors = shapes.sorted { $0.key < $1.key }.map { TorchSave.Saved($0.key, [Float](repeating: 0, count: $0.value.reduce(1, *)), $0.value) }
        let url = temp.appendingPathComponent("dinov3_vits16_pretrain_lvd1689m-08c60483.pth")
        try TorchSave.stateDict(tensors).write(to: url)
        let model = try DINOv3Model(folder: url)
        XCTAssertEqual(model.config, config)
        XCTAssertEqual(model.variantName, "ViT-S/16")
        XCTAssertFalse(model.usesStoredRoPEPeriods)
        let renamed = temp.appendingPathComponent("backbone.pth")
        try FileManager.default.moveItem(at: url, to: renamed)
        XCTAssertThrowsError(try DINOv3Model(folder: renamed)) { XCTAssertTrue("\($0)".contains("--arch"), "\($0)") }
        XCTAssertEqual(try MetaLayout(file: TorchCheckpointFile(path: renamed.path), arch: .vits16, fileName: "backbone.pth").config, config)
    }

    /// Layout errors name the Meta tensor: missing, misshapen, unexpected.
    func testLayoutErrorsNameTheMetaTensor() throws {
        let missing = try resaved("missing.pth") { $0.removeAll { $0.name == "blocks.1.mlp.fc2.weight" } }
        XCTAssertThrowsError(try DINOv3Model(folder: missing)) { XCTAssertTrue("\($0)".contains("'blocks.1.mlp.fc2.weight'"), "\($0)") }
        let extra = try resaved("extra.pth") { $0.append(TorchSave.Saved("head.weight", [1, 2], [2])) }
        XCTAssertThrowsError(try DINOv3Model(folder: extra)) { XCTAssertTrue("\($0)".contains("head.weight"), "\($0)") }
        let misshapen = try resaved("misshapen.pth") { tensors in
            if let i = tensors.firstIndex(where: { $0.name == "blocks.0.attn.qkv.weight" }) {
                tensors[i].shape = [48 * 3 * 48 / 16, 16]
            }
        }
        XCTAssertThrowsError(try DINOv3Model(folder: misshapen)) { XCTAssertTrue("\($0)".contains("'blocks.0.attn.qkv.weight' has shape [432, 16]"), "\($0)") }
        let nan = try resaved("nan.pth") { tensors in tensors[tensors.count - 1].values[0] = .nan }
        XCTAssertThrowsError(try DINOv3Model(folder: nan)) { XCTAssertTrue("\($0)".contains("NaN or infinite"), "\($0)") }
    }

    /// Without a mask the key bias is Meta's to use: kept (config key_bias) and applied.
    func testUnmaskedKeyBiasIsKept() throws {
        let unmasked = try resaved("unmasked.pth") { $0.removeAll { $0.name.hasSuffix("qkv.bias_mask") } }
        let model = try DINOv3Model(folder: unmasked)
        XCTAssertTrue(model.config.keyBias)
        let masked = try DINOv3Model(folder: Fixtures.pth("gelu_reg4"))
        XCTAssertFalse(masked.config.keyBias)
        let pixels = try Fixtures.caseFile("gelu_reg4_224").floats("pixel_values")
        let a = try model.forward(pixels: pixels, batch: 1, height: 224, width: 224).lastHiddenState
        let b = try masked.forward(pixels: pixels, batch: 1, height: 224, width: 224).lastHiddenState
        XCTAssertGreaterThan(maxAbsDiff(a, b), 1e-3)
    }
}
