import Datasets
import Foundation
import TestSupport
import XCTest

/// Nothing a user made is replaced without --overwrite, and runs of different commands never
/// share a folder: each refusal names the file and comes before any work (a model that does
/// not exist is never reached).
final class OverwriteCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    var missingModel: [String] { ["--model", path("no-such-model")] }

    /// A folder holding `files` (empty contents).
    func folder(_ name: String, holding files: [String], runJSON: String? = nil) throws -> String {
        let folder = path(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in files { try Data().write(to: URL(fileURLWithPath: folder + "/" + file)) }
        if let runJSON { try Data(runJSON.utf8).write(to: URL(fileURLWithPath: folder + "/run.json")) }
        return folder
    }

    func assertRefused(_ arguments: [String], naming words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(arguments)
        XCTAssertNotEqual(r.status, 0, r.stdout, file: file, line: line)
        for word in words { XCTAssertTrue(r.stderr.contains(word), "\(word): \(r.stderr)", file: file, line: line) }
        XCTAssertFalse(r.stderr.contains("no-such-model"), "refused before the model was looked for: \(r.stderr)", file: file, line: line)
    }

    /// knn, fewshot and eval-seg refuse a folder holding their result without --overwrite.
    func testEvaluationResultsAreKeptWithoutOverwrite() throws {
        let data = ["--data", try folder("data", holding: [])]
        try assertRefused(["knn"] + missingModel + data + ["--out", folder("knn", holding: ["knn.json"])], naming: ["knn.json", "--overwrite"])
        try assertRefused(["fewshot"] + missingModel + data + ["--out", folder("few", holding: ["fewshot.json"])],
                          naming: ["fewshot.json", "--overwrite"])
        try assertRefused(["eval-seg", "--pred", folder("p", holding: []), "--gt", folder("g", holding: []), "--num-classes", "2", "--out", folder("seg", holding: ["metrics.json"])],
                          naming: ["metrics.json", "--overwrite"])
    }

    /// classify after eval-linear into the same folder: refused, naming eval-linear's run.json and
    /// the file both write; eval-linear again needs --overwrite; a training run's folder is
    /// refused to knn, --overwrite or not.
    func testDifferentCommandsNeverShareARunFolder() throws {
        let data = path("shapes"), run = path("run"), eval = path("eval")
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 2, perClass: 4, valPerClass: 2, size: 32, seed: 3)
        let common = ["--model", CLI.tinyModel, "--data", data, "--size", "32", "--threads", "1", "--no-cache"]
        let train = try CLI.run(["train-linear"] + common + ["--epochs", "1", "--iters-per-epoch", "4", "--out", run])
        XCTAssertEqual(train.status, 0, train.stderr)
        let head = ["--head", run + "/head.safetensors"]
        let first = try CLI.run(["eval-linear", "--model", CLI.tinyModel, "--data", data, "--no-cache", "--threads", "1", "--out", eval] + head)
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: eval + "/predictions.csv"))
        try assertRefused(["classify", data + "/val", "--out", eval] + head + missingModel,
                          naming: ["`eval-linear`", eval + "/run.json", "predictions.csv", "choose another --out"])
        try assertRefused(["classify", data + "/val", "--out", eval, "--overwrite"] + head + missingModel, naming: ["`eval-linear`"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: eval + "/predictions.csv")), before)
        try assertRefused(["eval-linear", "--data", data, "--out", eval] + head + missingModel, naming: ["metrics.json", "--overwrite"])
        let again = try CLI.run(["eval-linear", "--model", CLI.tinyModel, "--data", data, "--no-cache", "--threads", "1", "--out", eval,
                                 "--overwrite"] + head)
        XCTAssertEqual(again.status, 0, again.stderr)
        try assertRefused(["knn", "--data", data, "--out", run, "--overwrite"] + missingModel, naming: ["`train-linear`", "run.json"])
    }

    /// segment keeps existing masks without --overwrite (naming the first), and adds other images' files.
    func testSegmentKeepsItsMasksWithoutOverwrite() throws {
        let image = CLI.fixtureImages + "/rgb_small_40x30.png", other = CLI.fixtureImages + "/grey_97x131.jpg"
        let out = path("seg"), common = ["segment", "--clusters", "2", "--size", "32", "--threads", "1", "--out", out]
        let first = try CLI.run(common + [image, "--model", CLI.tinyModel])
        XCTAssertEqual(first.status, 0, first.stderr)
        try assertRefused(common + [other, image] + missingModel, naming: [out, "rgb_small_40x30.pca.png", "--overwrite"])
        let added = try CLI.run(common + [other, "--model", CLI.tinyModel])
        XCTAssertEqual(added.status, 0, added.stderr)
        let replaced = try CLI.run(common + [image, other, "--model", CLI.tinyModel, "--overwrite"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
    }
}

extension OverwriteCLITests {
    /// synth keeps a data set it generated earlier unless --overwrite.
    func testSynthKeepsAnEarlierDataSetWithoutOverwrite() throws {
        let out = path("synth"), command = ["synth", "classification", "--out", out, "--count", "1", "--classes", "2", "--size", "16"]
        XCTAssertEqual(try CLI.run(command).status, 0)
        try assertRefused(command, naming: [out, "--overwrite"])
        let replaced = try CLI.run(command + ["--overwrite"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
    }
}
