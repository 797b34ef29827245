import Foundation
import Heads
import SafeTensors
import Support
import TestSupport
import Training
import XCTest

/// A depth head file is checked on load: NaN or infinite weights, shapes that disagree with the
/// recorded recipe, a recipe that is missing or impossible, negative variances, stray tensors and
/// other head kinds are refused by name.
final class DepthHeadFileTests: HostileTestCase {
    static let recipe = #"{"bins":4,"binsStrategy":"linear","maxDepth":10,"minDepth":0.001,"normStrategy":"linear"}"#

    /// A depth head file for C 3 and 4 bins with `edit` applied to its tensors and metadata.
    func head(_ name: String, _ edit: (inout [String: ([Float], [Int])], inout [String: String]) -> Void) throws -> String {
        var tensors: [String: ([Float], [Int])] = [
            "conv_depth.weight": ([Float](repeating: 0.1, count: 12), [4, 3, 1, 1]), "conv_depth.bias": ([0, 0, 0, 0], [4]),
            "batchnorm_layer.weight": ([1, 1, 1], [3]), "batchnorm_layer.bias": ([0, 0, 0], [3]),
            "batchnorm_layer.running_mean": ([0, 0, 0], [3]), "batchnorm_layer.running_var": ([1, 1, 1], [3]),
        ]
        var metadata = HeadMetadata(kind: .depth, extra: ["depth_recipe": Self.recipe]).safetensorsMetadata
        edit(&tensors, &metadata)
        var writer = SafeTensorsWriter(metadata: metadata)
        for (key, (values, shape)) in tensors.sorted(by: { $0.key < $1.key }) { try writer.add(key, floats: values, shape: shape) }
        let path = temp + "/\(name).safetensors"
        try writer.write(to: path)
        return path
    }

    func testWellFormedHeadLoads() throws {
        let loaded = try DepthHead.load(from: head("good") { _, _ in })
        XCTAssertEqual(loaded.recipe.bins, 4)
        XCTAssertEqual(loaded.dim, 3)
    }

    func testHostileHeadsAreRefusedByName() throws {
        let cases: [(String, (inout [String: ([Float], [Int])], inout [String: String]) -> Void, [String])] = [
            ("nan-weight", { t, _ in t["conv_depth.weight"]!.0[5] = .nan }, ["conv_depth.weight"]),
            ("inf-bias", { t, _ in t["conv_depth.bias"]!.0[1] = .infinity }, ["conv_depth.bias"]),
            ("bins-mismatch", { t, _ in t["conv_depth.weight"] = ([Float](repeating: 0, count: 15), [5, 3, 1, 1]) }, ["conv_depth.weight", "[4, channels, 1, 1]"]),
            ("not-1x1", { t, _ in t["conv_depth.weight"] = ([Float](repeating: 0, count: 48), [4, 3, 2, 2]) }, ["conv_depth.weight"]),
            ("bn-width", { t, _ in t["batchnorm_layer.bias"] = ([0, 0], [2]) }, ["batchnorm_layer.bias"]),
            ("negative-variance", { t, _ in t["batchnorm_layer.running_var"]!.0[0] = -1 }, ["running_var", "negative"]),
            ("stray-tensor", { t, _ in t["conv.weight"] = ([0], [1]) }, ["conv.weight"]),
            ("no-recipe", { _, m in m["extra"] = "{}" }, ["depth_recipe", "missing"]),
            ("min-above-max", { _, m in m["extra"] = #"{"depth_recipe":"{\"bins\":4,\"minDepth\":20,\"maxDepth\":10,\"binsStrategy\":\"linear\",\"normStrategy\":\"linear\"}"}"# },
             ["depth_recipe", "min < max"]),
            ("one-bin", { _, m in m["extra"] = #"{"depth_recipe":"{\"bins\":1,\"minDepth\":0.1,\"maxDepth\":10,\"binsStrategy\":\"linear\",\"normStrategy\":\"linear\"}"}"# },
             ["depth_recipe", "2...4096"]),
            ("unknown-norm", { _, m in m["extra"] = #"{"depth_recipe":"{\"bins\":4,\"minDepth\":0.1,\"maxDepth\":10,\"binsStrategy\":\"linear\",\"normStrategy\":\"cubic\"}"}"# },
             ["depth_recipe", "not a depth recipe"]),
            ("segmenter-kind", { _, m in m["kind"] = "segmenter" }, ["segmenter"]),
        ]
        for (name, edit, fragments) in cases {
            let path = try head(name, edit)
            assertRefused(try DepthHead.load(from: path), [path] + fragments)
        }
    }

    func testSavingRefusesNonFiniteWeights() throws {
        var random = SeededRandom(seed: 0)
        var head = try DepthHead(channels: 3, recipe: DepthHeadRecipe(bins: 4), metadata: HeadMetadata(kind: .depth), random: &random)
        head.convBias[2] = .nan
        let path = temp + "/nan.safetensors"
        assertRefused(try head.save(to: path), ["conv_depth.bias"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
