@testable import Backbone
import Foundation
import SafeTensors
import Support
import TestSupport
import XCTest

/// Every config.json `convert` writes has, for each field, the JSON type transformers'
/// DINOv3ViTConfig gives it (Fixtures/dinov3_vit_config_types.json, from
/// scripts/make_config_types.py): its strict config check refuses `"num_register_tokens": true`
/// and `"layer_norm_eps": 1`, so 0 and 1 must stay integers and floats keep their decimal point.
final class MetaConfigTypesTests: XCTestCase {
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-meta-types-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    /// The JSON kind of a value as Python's json module reads it (an int and a float apart).
    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "bool"
        case let .number(text): return text.contains(where: { ".eE".contains($0) }) ? "float" : "int"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// gelu_reg4 re-saved with `edit` applied.
    func variant(_ name: String, _ edit: (inout [TorchSave.Saved]) -> Void) throws -> URL {
        var tensors = try TorchSave.tensors(of: Fixtures.pth("gelu_reg4").path)
        edit(&tensors)
        let url = temp.appendingPathComponent(name + ".pth")
        try TorchSave.stateDict(tensors).write(to: url)
        return url
    }

    /// Registers cut to `count` (removed for 0).
    static func registers(_ count: Int) -> (inout [TorchSave.Saved]) -> Void {
        { tensors in
            guard let i = tensors.firstIndex(where: { $0.name == "storage_tokens" }) else { return }
            if count == 0 { tensors.remove(at: i); return }
            tensors[i].values = Array(tensors[i].values.prefix(count * 48))
            tensors[i].shape = [1, count, 48]
        }
    }

    /// One block, one head (12 RoPE periods for a head of 48), one register: every integer
    /// field that can be 1 is 1.
    static func ones(_ tensors: inout [TorchSave.Saved]) {
        registers(1)(&tensors)
        tensors.removeAll { $0.name.hasPrefix("blocks.1.") }
        if let i = tensors.firstIndex(where: { $0.name == "rope_embed.periods" }) {
            tensors[i].values = (0..<12).map { Float(pow(100.0, Double($0) / 12)) }
            tensors[i].shape = [12]
        }
    }

    func testConvertedConfigsHaveTransformersTypes() throws {
        let fixture = try StrictJSON.parse(Data(contentsOf: Fixtures.root.appendingPathComponent("dinov3_vit_config_types.json")))
        guard case let .object(expected)? = fixture["types"] else { return XCTFail("the fixture has no types") }
        let types = Dictionary(uniqueKeysWithValues: expected.map { ($0.0, $0.1.string ?? "") })
        let cases: [(name: String, pth: URL, check: (DINOv3Config) -> Bool)] = [
            ("reg0", try variant("reg0", Self.registers(0)), { $0.numRegisterTokens == 0 }),
            ("reg1", try variant("reg1", Self.registers(1)), { $0.numRegisterTokens == 1 }),
            ("ones", try variant("ones", Self.ones), { ($0.numRegisterTokens, $0.numHiddenLayers, $0.numAttentionHeads) == (1, 1, 1) }),
            ("gated", Fixtures.pth("gated_silu"), { $0.useGatedMLP }),
        ]
        for (name, pth, check) in cases {
            let out = temp.appendingPathComponent("out-" + name)
            _ = try MetaConversion.convert(pth, to: out, arch: nil, overwrite: false)
            let data = try Data(contentsOf: out.appendingPathComponent("config.json"))
            guard case let .object(fields) = try StrictJSON.parse(data) else { return XCTFail("\(name): not an object") }
            for (key, value) in fields {
                XCTAssertEqual(Self.kind(value), types[key], "\(name): \(key) is \(value)")
            }
            // No registers still gives transformers its [1, 0, D] register tensor (every key matched).
            let weights = try SafeTensorsFile(path: out.appendingPathComponent("model.safetensors").path)
            XCTAssertNotNil(weights.tensors["embeddings.register_tokens"], name)
            // dinoprobe reads its own output back, to the same architecture.
            let config = try DINOv3Config.decode(data, path: name)
            XCTAssertTrue(check(config), "\(name): \(config)")
        }
    }

    /// The typed encoder keeps each Swift type's JSON kind (JSONSerialization bridged 0/1 to
    /// booleans and wrote 1.0 as 1), and refuses non-finite numbers.
    func testTypedEncoderKeepsKinds() throws {
        struct Sample: Encodable { var zero = 0, one = 1, flag = true, eps = 1e-5, whole = 1.0, half: Float = 0.5, name = "a\"b\n", list = [0, 1], none: Int? = nil }
        let text = try JSONValueEncoder.encode(Sample()).text(indent: nil)
        XCTAssertEqual(text, #"{"zero":0,"one":1,"flag":true,"eps":1e-05,"whole":1.0,"half":0.5,"name":"a\"b\n","list":[0,1]}"#)
        XCTAssertThrowsError(try JSONValueEncoder.encode(["x": Double.nan]))
        XCTAssertEqual(try StrictJSON.parse(Data(JSONValue.object([("k", .array([.number("1"), .bool(false)]))]).text().utf8)),
                       .object([("k", .array([.number("1"), .bool(false)]))]))
    }
}
