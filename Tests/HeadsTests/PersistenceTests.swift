import Foundation
import Heads
import SafeTensors
import XCTest

final class PersistenceTests: XCTestCase {
    let metadata = HeadMetadata(kind: .classifier, featureRecipe: "cls+avgpool|blocks=1|preset=hf|size=224",
                                backboneID: "facebook/dinov3-vits16-pretrain-lvd1689m", backboneFingerprint: "aaaa1111",
                                classNames: ["cat", "dog", "fish"], extra: ["epochs": "10"])

    func testClassifierRoundTrip() throws {
        let folder = try temporaryFolder(self)
        var head = try LinearClassifier(dim: 5, classes: 3, seed: 4, metadata: metadata)
        head.bias = [0.5, -1, 2]
        let path = folder.appendingPathComponent("head.safetensors").path
        try head.save(to: path)
        let loaded = try LinearClassifier.load(from: path)
        XCTAssertEqual(loaded.weight, head.weight)
        XCTAssertEqual(loaded.bias, head.bias)
        XCTAssertEqual(loaded.metadata, metadata)
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.tensors["weight"]?.shape, [3, 5])
        XCTAssertEqual(file.tensors["weight"]?.dtype, .f32)
        XCTAssertEqual(file.metadata["class_names"], #"["cat","dog","fish"]"#)
    }

    func testSegmenterRoundTrip() throws {
        let folder = try temporaryFolder(self)
        var meta = HeadMetadata(kind: .segmenter, featureRecipe: "patch", backboneFingerprint: "f", classNames: ["a", "b"],
                                palette: [1, 2, 3, 4, 5, 6], inputResolution: 448)
        meta.extra["note"] = "x"
        var head = try LinearSegmenter(dim: 3, classes: 2, seed: 1, metadata: meta)
        head.batchNorm.runningMean = [1, 2, 3]
        head.batchNorm.runningVar = [4, 5, 6]
        head.batchNorm.weight = [0.5, 0.6, 0.7]
        head.batchNorm.batchesTracked = 12
        let path = folder.appendingPathComponent("seg.safetensors").path
        try head.save(to: path)
        let loaded = try LinearSegmenter.load(from: path)
        XCTAssertEqual(loaded.convWeight, head.convWeight)
        XCTAssertEqual(loaded.convBias, head.convBias)
        XCTAssertEqual(loaded.batchNorm.weight, head.batchNorm.weight)
        XCTAssertEqual(loaded.batchNorm.runningMean, head.batchNorm.runningMean)
        XCTAssertEqual(loaded.batchNorm.runningVar, head.batchNorm.runningVar)
        XCTAssertEqual(loaded.batchNorm.batchesTracked, 12)
        XCTAssertEqual(loaded.metadata, meta)
        XCTAssertEqual(try SafeTensorsFile(path: path).tensors["conv.weight"]?.shape, [2, 3, 1, 1])
    }

    /// Meta's names (`batchnorm_layer.*`, as `dinov3/eval/segmentation`'s LinearHead) load and
    /// save as well as ours; a file holding both sets is refused.
    func testSegmenterUnderMetasTensorNames() throws {
        let folder = try temporaryFolder(self)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/segmenter_head.safetensors").path
        let ours = try LinearSegmenter.load(from: fixture)
        // The PyTorch-written fixture, renamed as Meta's state dict names it.
        let file = try SafeTensorsFile(path: fixture)
        var writer = SafeTensorsWriter(metadata: file.metadata)
        for name in file.tensors.keys.sorted() {
            let renamed = name.replacingOccurrences(of: "bn.", with: "batchnorm_layer.")
            if file.tensors[name]?.dtype == .i64 {
                try writer.add(renamed, int64s: try file.ints(name), shape: file.tensors[name]!.shape)
            } else {
                try writer.add(renamed, floats: try file.floats(name), shape: file.tensors[name]!.shape)
            }
        }
        let metaNamed = folder.appendingPathComponent("meta.safetensors").path
        try writer.write(to: metaNamed)
        let theirs = try LinearSegmenter.load(from: metaNamed)
        XCTAssertEqual(theirs.convWeight, ours.convWeight)
        XCTAssertEqual(theirs.batchNorm.runningVar, ours.batchNorm.runningVar)
        XCTAssertEqual(theirs.batchNorm.batchesTracked, ours.batchNorm.batchesTracked)
        // Saving under Meta's names writes exactly Meta's keys.
        let saved = folder.appendingPathComponent("saved.safetensors").path
        try ours.save(to: saved, naming: .meta)
        XCTAssertEqual(Set(try SafeTensorsFile(path: saved).tensors.keys),
                       ["conv.weight", "conv.bias", "batchnorm_layer.weight", "batchnorm_layer.bias", "batchnorm_layer.running_mean",
                        "batchnorm_layer.running_var", "batchnorm_layer.num_batches_tracked"])
        XCTAssertEqual(try LinearSegmenter.load(from: saved).batchNorm.weight, ours.batchNorm.weight)
        // Both sets at once: ambiguous.
        var both = SafeTensorsWriter(metadata: file.metadata)
        for name in file.tensors.keys where file.tensors[name]?.dtype != .i64 { try both.add(name, floats: try file.floats(name), shape: file.tensors[name]!.shape) }
        try both.add("batchnorm_layer.weight", floats: try file.floats("bn.weight"), shape: file.tensors["bn.weight"]!.shape)
        let mixed = folder.appendingPathComponent("mixed.safetensors").path
        try both.write(to: mixed)
        XCTAssertThrowsError(try LinearSegmenter.load(from: mixed)) { XCTAssertTrue("\($0)".contains("both"), "\($0)") }
    }

    /// A state dict written by PyTorch (safetensors.torch.save_file of nn.Linear) loads and
    /// gives PyTorch's logits.
    func testLoadsPyTorchWrittenClassifier() throws {
        let head = try LinearClassifier.load(from: Fixtures.path("classifier_head.safetensors"))
        let expected = try Fixtures.file("classifier_expected.safetensors")
        let x = try expected.floats("features")
        XCTAssertLessThan(maxAbsDiff(try head.logits(features: x, count: x.count / head.dim), try expected.floats("logits")), 1e-5)
        XCTAssertEqual(head.metadata.classNames, ["class0", "class1", "class2", "class3"])
    }

    func testLoadErrorsAreClear() throws {
        let folder = try temporaryFolder(self)
        func expectError(_ path: String, _ check: (HeadError) -> Bool, line: UInt = #line) {
            XCTAssertThrowsError(try LinearClassifier.load(from: path), line: line) { error in
                guard let headError = error as? HeadError else { return XCTFail("not a HeadError: \(error)", line: line) }
                XCTAssertTrue(check(headError), "\(headError)", line: line)
            }
        }
        // Not a head at all (a fixture without head metadata), a missing file, a segmenter.
        expectError(Fixtures.path("upsample.safetensors")) { if case .notAHead = $0 { return true }; return false }
        expectError(folder.appendingPathComponent("nothing.safetensors").path) { if case .unreadable = $0 { return true }; return false }
        expectError(Fixtures.path("segmenter_head.safetensors")) { $0.description.contains("holds a segmenter head, not a classifier head") }

        let good = metadata.safetensorsMetadata
        func write(_ name: String, metadata: [String: String] = good, _ tensors: [(String, [Float], [Int])]) throws -> String {
            var writer = SafeTensorsWriter(metadata: metadata)
            for (n, v, s) in tensors { try writer.add(n, floats: v, shape: s) }
            let path = folder.appendingPathComponent(name).path
            try writer.write(to: path)
            return path
        }
        let w = [Float](repeating: 0, count: 15)
        expectError(try write("nobias.safetensors", [("weight", w, [3, 5])])) { $0 == .missingTensor(path: $0.path, name: "bias") }
        expectError(try write("shape.safetensors", [("weight", w, [3, 5]), ("bias", [0, 0], [2])])) {
            if case let .wrongShape(_, name, expected, found) = $0 { return name == "bias" && expected == [3] && found == [2] }
            return false
        }
        expectError(try write("extra.safetensors", [("weight", w, [3, 5]), ("bias", [0, 0, 0], [3]), ("other", [1], [1])])) {
            if case let .unexpectedTensors(_, names) = $0 { return names == ["other"] }; return false
        }
        var badJSON = good
        badJSON["class_names"] = "[not json"
        expectError(try write("json.safetensors", metadata: badJSON, [("weight", w, [3, 5]), ("bias", [0, 0, 0], [3])])) {
            if case let .badMetadata(_, key, _) = $0 { return key == "class_names" }; return false
        }
        var twoNames = good
        twoNames["class_names"] = #"["a","b"]"#
        expectError(try write("names.safetensors", metadata: twoNames, [("weight", w, [3, 5]), ("bias", [0, 0, 0], [3])])) {
            if case .badMetadata = $0 { return true }; return false
        }
        var foreign = good
        foreign["format"] = "something-else"
        expectError(try write("foreign.safetensors", metadata: foreign, [("weight", w, [3, 5]), ("bias", [0, 0, 0], [3])])) {
            if case .notAHead = $0 { return true }; return false
        }
    }

    func testCompatibilityCheckNamesBothSides() throws {
        let own = try metadata.recipe()
        XCTAssertNoThrow(try metadata.checkCompatible(recipe: own, backboneFingerprint: "aaaa1111"))
        let other = FeatureRecipe(tokens: .cls, blocks: 4)
        XCTAssertThrowsError(try metadata.checkCompatible(recipe: other, backboneFingerprint: "bbbb2222")) {
            let text = "\($0)"
            for part in [own.key, "aaaa1111", other.key, "bbbb2222", "re-extract"] {
                XCTAssertTrue(text.contains(part), "'\(part)' missing from: \(text)")
            }
        }
        XCTAssertThrowsError(try metadata.checkCompatible(recipe: own, backboneFingerprint: "other"))
    }

    func testMetadataCodableUsesSnakeCaseAndDefaults() throws {
        let data = try JSONEncoder().encode(metadata)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertNotNil(object["feature_recipe"])
        XCTAssertNotNil(object["backbone_fingerprint"])
        XCTAssertEqual(try JSONDecoder().decode(HeadMetadata.self, from: data), metadata)
        let minimal = try JSONDecoder().decode(HeadMetadata.self, from: Data(#"{"kind":"segmenter"}"#.utf8))
        XCTAssertEqual(minimal, HeadMetadata(kind: .segmenter))
    }

    func testSavingRejectsInconsistentMetadata() throws {
        let folder = try temporaryFolder(self)
        var head = try LinearClassifier(dim: 2, classes: 2)
        head.metadata.palette = [1, 2, 3]
        XCTAssertThrowsError(try head.save(to: folder.appendingPathComponent("x.safetensors").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.safetensors").path))
        XCTAssertThrowsError(try LinearClassifier(dim: 2, classes: 2, metadata: HeadMetadata(kind: .classifier, classNames: ["one"])))
    }
}

final class ParameterValidationTests: XCTestCase {
    /// Parameters are public and mutable; a wrong size must throw, never read out of bounds.
    func testWrongSizedParametersThrowInsteadOfCrashing() throws {
        var head = try LinearClassifier(dim: 3, classes: 2)
        head.weight.removeLast()
        XCTAssertThrowsError(try head.logits(features: [1, 2, 3], count: 1))
        XCTAssertThrowsError(try head.save(to: "/tmp/never-written.safetensors"))
        var grid = try LinearClassifierGrid(dim: 3, classes: 2, learningRates: [0.1, 0.2])
        grid.bias.append(0)
        XCTAssertThrowsError(try grid.head(at: 0))
        XCTAssertThrowsError(try grid.lossesAndGradients(features: [1, 2, 3], labels: [0]))
        var segmenter = try LinearSegmenter(dim: 2, classes: 2)
        segmenter.batchNorm.runningVar = [1]
        XCTAssertThrowsError(try segmenter.foldedLinear())
        XCTAssertThrowsError(try segmenter.predict(features: [1, 2], batch: 1, height: 1, width: 1, outputHeight: 2, outputWidth: 2))
        XCTAssertThrowsError(try segmenter.batchNorm.forwardTraining([1, 2, 3, 4], rows: 2))
        XCTAssertThrowsError(try LinearClassifier(dim: 0, classes: 2))
        XCTAssertThrowsError(try LinearClassifierGrid(dim: 2, classes: 2, learningRates: []))
    }
}

extension HeadError {
    /// The path an error names (for tests that rebuild the expected value).
    var path: String {
        switch self {
        case let .missingTensor(path, _), let .notAHead(path, _), let .unreadable(path, _), let .wrongShape(path, _, _, _),
             let .badMetadata(path, _, _), let .unexpectedTensors(path, _), let .wrongKind(path, _, _):
            return path
        default: return ""
        }
    }
}
