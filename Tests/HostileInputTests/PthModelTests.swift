import Backbone
import Foundation
import TestSupport
import XCTest

/// Hostile PyTorch checkpoints given to the backbone (the reader's own refusals: TorchFileTests).
final class PthModelTests: HostileTestCase {
    let fixture = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth").path

    /// Half of Meta's checkpoint is refused by the model loader, by its reason.
    func testATruncatedCheckpointIsRefused() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture))
        let path = try write("dinov3_vits16_cut.pth", data.prefix(data.count / 2))
        assertRefused(try DINOv3Model(folder: URL(fileURLWithPath: path)), ["no zip end record"])
    }

    /// NaN anywhere in Meta's checkpoint (even in a tensor the backbone ignores) is refused.
    func testNaNInAnyTensorIsRefused() throws {
        var tensors = try TorchSave.tensors(of: fixture)
        tensors.append(TorchSave.Saved("local_cls_norm.weight", [Float](repeating: .nan, count: 48), [48]))
        tensors.append(TorchSave.Saved("local_cls_norm.bias", [Float](repeating: 0, count: 48), [48]))
        let path = try write("nan.pth", TorchSave.stateDict(tensors))
        assertRefused(try DINOv3Model(folder: URL(fileURLWithPath: path)), ["'local_cls_norm.weight'", "NaN or infinite"])
        assertRefused(try MetaConversion.convert(URL(fileURLWithPath: path), to: URL(fileURLWithPath: temp + "/out"), arch: nil, overwrite: false),
                      ["NaN or infinite"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp + "/out/config.json"))
    }
}
