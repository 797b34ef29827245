import Backbone
import Foundation
import SafeTensors
import Support
import TestSupport
import XCTest

/// Classes 1-3 for checkpoints: ambiguous names, paths that leave the model folder, absurd
/// configs, NaN weights.
final class CheckpointTests: HostileTestCase {
    let source = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/models/gelu_reg4").path

    /// A copy of the tiny model whose tensors pass through `edit` (name, values, shape).
    func model(_ name: String, edit: (inout [(String, [Float], [Int])]) -> Void = { _ in }) throws -> String {
        let folder = temp + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: folder + "/config.json")
        let file = try SafeTensorsFile(path: source + "/model.safetensors")
        var tensors = try file.names.map { ($0, try file.floats($0), file.tensors[$0]!.shape) }
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for (n, v, s) in tensors { try writer.add(n, floats: v, shape: s) }
        try writer.write(to: folder + "/model.safetensors")
        return folder
    }

    func load(_ folder: String) throws -> DINOv3Model { try DINOv3Model(folder: URL(fileURLWithPath: folder)) }

    func testTheSameTensorUnderTwoNamesIsRefused() throws {
        let folder = try model("ambiguous") { tensors in
            let norm = tensors.first { $0.0 == "norm.weight" }!
            tensors.append(("model.norm.weight", norm.1.map { $0 + 1 }, norm.2))
        }
        assertRefused(try load(folder), ["holds 'norm.weight' twice", "refuses to guess"])
    }

    func testNaNWeightsAreRefusedAtLoad() throws {
        let folder = try model("nan") { tensors in
            let i = tensors.firstIndex { $0.0 == "layer.1.mlp.up_proj.weight" }!
            tensors[i].1[17] = .nan
        }
        assertRefused(try load(folder), ["'layer.1.mlp.up_proj.weight'", "NaN or infinite"])
        let inf = try model("inf") { tensors in
            let i = tensors.firstIndex { $0.0 == "embeddings.cls_token" }!
            tensors[i].1[0] = .infinity
        }
        assertRefused(try load(inf), ["'embeddings.cls_token'", "NaN or infinite"])
    }

    /// A sharded copy whose index maps every tensor to `shard` (a path to check).
    func sharded(_ name: String, shard: String) throws -> String {
        let folder = temp + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: folder + "/config.json")
        let names = try SafeTensorsFile(path: source + "/model.safetensors").names
        let map = Dictionary(uniqueKeysWithValues: names.map { ($0, shard) })
        try write("\(name)/model.safetensors.index.json", String(decoding: try JSONSerialization.data(withJSONObject: ["weight_map": map]), as: UTF8.self))
        return folder
    }

    func testShardNamesCannotLeaveTheModelFolder() throws {
        // A secret beside the model folder, which the shard names try to reach.
        try write("secret.safetensors", Data("TOP-SECRET-BYTES-0123456789".utf8))
        for shard in ["../secret.safetensors", temp + "/secret.safetensors", "./../secret.safetensors", "sub/../../secret.safetensors", "", "model.bin"] {
            let folder = try sharded("escape-\(abs(shard.hashValue))", shard: shard)
            let message = assertRefused(try load(folder), ["is not a relative path to a .safetensors file inside the model folder"])
            XCTAssertFalse(message.contains("TOP-SECRET"), message)
        }
    }

    func testSymbolicLinksThatEscapeAreRefusedAndNothingIsEchoed() throws {
        try write("secret.safetensors", Data("TOP-SECRET-BYTES-0123456789".utf8))
        let folder = try sharded("link", shard: "model-00001-of-00001.safetensors")
        try FileManager.default.createSymbolicLink(atPath: folder + "/model-00001-of-00001.safetensors", withDestinationPath: temp + "/secret.safetensors")
        let message = assertRefused(try load(folder), ["outside", "only reads files inside the folder they belong to"])
        XCTAssertFalse(message.contains("TOP-SECRET"), message)
        XCTAssertFalse(message.contains("header length"), message)  // nothing read from the file
        // The single-file layout too, and config.json.
        let single = temp + "/single"
        try FileManager.default.createDirectory(atPath: single, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: single + "/config.json")
        try FileManager.default.createSymbolicLink(atPath: single + "/model.safetensors", withDestinationPath: temp + "/secret.safetensors")
        assertRefused(try load(single), ["outside"])
        let config = temp + "/config-link"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: config + "/config.json", withDestinationPath: source + "/config.json")
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: config + "/model.safetensors")
        assertRefused(try load(config), ["outside"])
    }

    func testHuggingFaceCacheLinksIntoBlobsStillLoad() throws {
        // models--org--name/snapshots/REV/* are links into models--org--name/blobs/: inside.
        let repo = temp + "/hub/models--org--tiny"
        try FileManager.default.createDirectory(atPath: repo + "/blobs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repo + "/snapshots/abc123", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repo + "/refs", withIntermediateDirectories: true)
        for (name, blob) in [("config.json", "c0ffee"), ("model.safetensors", "beef00")] {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: repo + "/blobs/" + blob)
            try FileManager.default.createSymbolicLink(atPath: repo + "/snapshots/abc123/" + name, withDestinationPath: "../../blobs/" + blob)
        }
        try write("hub/models--org--tiny/refs/main", "abc123")
        let folder = try ModelLocator.resolve("org/tiny", environment: ["HF_HUB_CACHE": temp + "/hub", "HOME": temp])
        XCTAssertEqual(try load(folder.path).config.hiddenSize, 48)
        // A ref that is a path, not a commit, is not followed.
        try write("hub/models--org--tiny/refs/main", "../../../elsewhere")
        XCTAssertEqual(try ModelLocator.resolve("org/tiny", environment: ["HF_HUB_CACHE": temp + "/hub", "HOME": temp]).lastPathComponent, "abc123")
    }

    func testAbsurdConfigsFailInMilliseconds() throws {
        let base = try String(contentsOfFile: source + "/config.json", encoding: .utf8)
        func config(_ key: String, _ value: String) -> Data {
            let object = try! JSONSerialization.jsonObject(with: Data(base.utf8)) as! [String: Any]
            var text = String(decoding: try! JSONSerialization.data(withJSONObject: object.filter { $0.key != key }, options: [.sortedKeys]), as: UTF8.self)
            text.removeLast()
            return Data((text + ",\"\(key)\":\(value)}").utf8)
        }
        let cases: [(String, String, String)] = [
            ("num_hidden_layers", "1000000000", "num_hidden_layers is 1000000000"),
            ("hidden_size", "4611686018427387904", "hidden_size is"),
            ("hidden_size", "-384", "hidden_size is -384"),
            ("num_attention_heads", "0", "num_attention_heads is 0"),
            ("num_attention_heads", "5", "not divisible"),
            ("intermediate_size", "99999999999", "intermediate_size is"),
            ("patch_size", "0", "patch_size is 0"),
            ("patch_size", "[16, 8]", "square [n, n] pair"),
            ("num_register_tokens", "100000", "num_register_tokens is 100000"),
            ("layer_norm_eps", "0", "layer_norm_eps is 0.0"),
            ("layer_norm_eps", "-1e-5", "layer_norm_eps"),
            ("layer_norm_eps", "1e400", "layer_norm_eps"),
            ("rope_theta", "0", "rope_theta is 0.0"),
            ("rope_theta", "1e300", "rope_theta"),
            ("hidden_act", "\"evil\"", "hidden_act 'evil' is not supported"),
            ("num_channels", "1", "num_channels is 1"),
            ("model_type", "\"dinov3_convnext\"", "expected 'dinov3_vit'"),
            ("hidden_size", "\"384\"", "hidden_size: expected an integer, found \"384\""),
        ]
        for (key, value, fragment) in cases {
            assertRefused(try DINOv3Config.decode(config(key, value), path: "config.json"), [fragment], within: 0.2)
        }
        assertRefused(try DINOv3Config.decode(Data("{\"hidden_size\":384,\"hidden_size\":768}".utf8), path: "c"), ["appears twice"])
        assertRefused(try DINOv3Config.decode(Data((String(repeating: "[", count: 5000)).utf8), path: "c"), ["nested more than 64"])
        // An oversized config.json is not read at all.
        let big = try write("big/config.json", Data(repeating: 0x20, count: 2 << 20))
        assertRefused(try DINOv3Config.load(from: URL(fileURLWithPath: big)), ["more than the 1048576 bytes"])
        // A FIFO named config.json must not hang the reader.
        let fifo = temp + "/fifo/config.json"
        try FileManager.default.createDirectory(atPath: temp + "/fifo", withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertRefused(try DINOv3Config.load(from: URL(fileURLWithPath: fifo)), ["FIFO", "not a regular file"])
    }

    func testConfigThatDoesNotMatchTheWeightsFailsBeforeAllocating() throws {
        // Sane but wrong: 512 layers of width 4096 for a 3 MB file. A missing-tensor error, fast.
        let folder = try model("mismatch")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! [String: Any]
        object["num_hidden_layers"] = 512
        object["hidden_size"] = 4096
        object["num_attention_heads"] = 32
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: folder + "/config.json"))
        assertRefused(try load(folder), ["missing tensor"], within: 1)
    }
}
