import Datasets
import Foundation
import TestSupport
import XCTest

/// Mistakes are answered before any work, with what was probably meant: a mistyped command,
/// a model folder or data folder that does not exist, a value the command does not accept.
final class FirstErrorsCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func refused(_ arguments: [String], in folder: URL? = nil) throws -> String {
        let r = try CLI.run(arguments, in: folder)
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertFalse(r.stderr.contains("model: "), "no backbone was loaded: \(r.stderr)")
        return r.stderr
    }

    func testAMistypedCommandGetsTheNearestNames() throws {
        let text = try refused(["train-linaer", "--data", "shapes"])
        XCTAssertTrue(text.contains("has no command train-linaer; did you mean train-linear?"), text)
        XCTAssertFalse(text.contains("Unknown option"), text)
        let nested = try refused(["synth", "clasification", "--out", "x"])
        XCTAssertTrue(nested.contains("synth classification"), nested)
        let far = try refused(["zzzzzz"])
        XCTAssertTrue(far.contains("commands: info, download"), far)
        XCTAssertFalse(far.contains("did you mean"), far)
    }

    /// A typo'd model folder: "no such folder" with the near names, not the gated-weights help
    /// (which stays for hub ids).
    func testAMissingModelFolderIsNotAskedForOnTheHub() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("vits16-random"), withIntermediateDirectories: true)
        for spec in ["vits16-randon", "./vits16-randon", dir.path + "/vits16-randon"] {
            let text = try refused(["info", "--model", spec], in: dir)
            XCTAssertTrue(text.contains("no such folder"), text)
            XCTAssertTrue(text.contains("vits16-random"), text)
            XCTAssertFalse(text.contains("request access"), text)
        }
        let hub = try refused(["info", "--model", "acme/not-cached"], in: dir)
        XCTAssertTrue(hub.contains("request access"), hub)
    }

    /// A missing data folder and a token kind train-linear does not take: refused at parse time,
    /// before the model is looked for (a missing model would be named otherwise).
    func testDataAndOptionMistakesComeBeforeTheBackbone() throws {
        _ = try SyntheticData.makeClassificationFolder(root: dir.appendingPathComponent("shapes").path, classes: 2, perClass: 1, size: 16)
        let missingModel = ["--model", dir.appendingPathComponent("no-model").path]
        for command in ["train-linear", "train-logreg", "knn", "fewshot", "train-seg"] {
            let text = try refused([command, "--data", "shapez"] + missingModel, in: dir)
            XCTAssertTrue(text.contains("--data shapez: no such folder; did you mean shapes?"), "\(command): \(text)")
            XCTAssertFalse(text.contains("no-model"), "\(command): \(text)")
        }
        let tokens = try refused(["train-linear", "--data", "shapes", "--tokens", "patch"] + missingModel, in: dir)
        XCTAssertTrue(tokens.contains("'cls'") && tokens.contains("'cls+avgpool'"), tokens)
        let help = try CLI.run(["train-linear", "--help"])
        XCTAssertTrue(help.stdout.contains("cls+avgpool") && !help.stdout.contains("cls+avgpool, patch"), help.stdout)
    }

    /// Each default and each list of values appears once.
    func testHelpShowsEachDefaultAndValueListOnce() throws {
        let help = try CLI.run(["extract", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "  ", with: " ")
        let threads = try XCTUnwrap(help.range(of: "--threads")).upperBound
        let line = String(help[threads...].prefix(200))
        XCTAssertEqual(line.components(separatedBy: "default").count - 1, 1, line)
        XCTAssertEqual(help.components(separatedBy: "vit7b16").count - 1, 1, help)
    }
}
