import Foundation
import Heads
import Support
@testable import Training
import XCTest

/// The run-folder rules as a library user meets them: lock, overwrite, resume, publishing.
final class RunFolderTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("runfolder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func open(_ name: String = "run", overwrite: Bool = false, resume: Bool = false, command: [String] = ["test"],
              guarding: [String] = ["head.safetensors"]) throws -> RunFolder {
        try RunFolder(root + "/" + name, prefix: "test", overwrite: overwrite, guarding: guarding, resume: resume,
                      record: RunRecord(version: "test", commit: "none", command: command, options: JSONValue(describing: [String: Any]())))
    }

    func refusal(_ body: @autoclosure () throws -> RunFolder) -> RunFolderError? {
        do { _ = try body().close() } catch let error as RunFolderError { return error } catch { XCTFail("\(error)") }
        return nil
    }

    func testAFolderIsLockedAndAnUnusedOneRemoved() throws {
        let run = try open()
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.path + "/run.json"))
        XCTAssertThrowsError(try open(), "a second run into a held folder is refused") {
            guard case FileSystemError.locked = $0 else { return XCTFail("\($0)") }
        }
        run.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "a run that wrote nothing leaves nothing")
    }

    func testPublishedResultsGuardTheFolderUnlessOverwritten() throws {
        let run = try open()
        try Data("weights".utf8).write(to: URL(fileURLWithPath: try run.staging() + "/head.safetensors"))
        try Data("state".utf8).write(to: URL(fileURLWithPath: run.statePath))
        try run.publish(outputs: ["head.safetensors"])
        run.close()
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.path + "/head.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.statePath), "the training state is retired on publishing")
        XCTAssertEqual(refusal(try open()), .earlierResult(run.path, result: "head.safetensors"))
        XCTAssertEqual(refusal(try open(resume: true)), .finished(run.path, result: "head.safetensors"))
        XCTAssertNil(refusal(try open(overwrite: true)))
    }

    /// A folder holding another command's finished run is refused, --overwrite or not, naming a
    /// file both write; the same command's results need --overwrite (the first existing one named).
    func testRunsOfDifferentCommandsNeverShareAFolder() throws {
        let eval = try open(command: ["dinoprobe", "eval-linear"], guarding: ["metrics.json", "predictions.csv"])
        try Data("p".utf8).write(to: URL(fileURLWithPath: try eval.staging() + "/predictions.csv"))
        try eval.writeSkipped(["a.png\tunreadable"], split: "val")
        try eval.publish(outputs: ["predictions.csv"])
        XCTAssertEqual(eval.published, ["predictions.csv", "skipped-val.txt", "run.json"])
        eval.close()
        for overwrite in [false, true] {
            XCTAssertEqual(refusal(try open(overwrite: overwrite, command: ["dinoprobe", "classify"], guarding: ["predictions.csv"])),
                           .otherCommand(eval.path, command: "eval-linear", file: "predictions.csv"))
        }
        XCTAssertEqual(refusal(try open(command: ["dinoprobe", "eval-linear"], guarding: ["metrics.json", "predictions.csv"])),
                       .earlierResult(eval.path, result: "predictions.csv"))
    }

    func testAnUnfinishedRunIsResumedOrStartedAgainButNotSilentlyReplaced() throws {
        XCTAssertEqual(refusal(try open("fresh", resume: true)), .nothingToResume(root + "/fresh"))
        let first = try open()
        try Data("state".utf8).write(to: URL(fileURLWithPath: first.statePath))
        let id = first.record.runID
        first.close()
        XCTAssertEqual(refusal(try open()), .unfinished(first.path))
        let resumed = try open(resume: true)
        XCTAssertEqual(resumed.record.runID, id, "a resumed run keeps its id")
        XCTAssertEqual(resumed.record.resumedFrom.count, 1)
        resumed.close()
        let again = try open(overwrite: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: again.statePath), "--overwrite starts again")
        again.close()
    }
}

extension RunFolderTests {
    /// An --overwrite run that fails or is stopped before publishing leaves the earlier run whole:
    /// its run.json (what `rerun` replays, what its heads point to) and its skipped list.
    func testAFailedOverwriteKeepsTheEarlierRunsRecord() throws {
        let first = try open(command: ["dinoprobe", "eval-linear", "--epochs", "1"])
        try Data("w".utf8).write(to: URL(fileURLWithPath: try first.staging() + "/head.safetensors"))
        try first.writeSkipped(["a.png\tunreadable"], split: "val")
        try first.publish(outputs: ["head.safetensors"])
        first.close()
        let record = try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json"))
        let skipped = try Data(contentsOf: URL(fileURLWithPath: first.path + "/skipped-val.txt"))
        for interrupted in [false, true] {
            let again = try open(overwrite: true, command: ["dinoprobe", "eval-linear", "--epochs", "2"])
            try again.writeSkipped(["b.png\ttoo large"], split: "val")
            try again.update { $0.notes["x"] = "y" }
            if !interrupted { again.close() }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json")), record, "interrupted: \(interrupted)")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.path + "/skipped-val.txt")), skipped, "interrupted: \(interrupted)")
            if interrupted { try FileManager.default.removeItem(atPath: first.path + "/.dinoprobe.lock") }
        }
        let last = try open(overwrite: true, command: ["dinoprobe", "eval-linear", "--epochs", "3"])
        try last.writeSkipped(["c.png\tbad"], split: "val")
        try Data("w3".utf8).write(to: URL(fileURLWithPath: try last.staging() + "/head.safetensors"))
        try last.publish(outputs: ["head.safetensors"])
        last.close()
        XCTAssertEqual(try String(contentsOfFile: last.path + "/skipped-val.txt", encoding: .utf8), "c.png\tbad\n")
        XCTAssertTrue(try String(contentsOfFile: last.path + "/run.json", encoding: .utf8).contains("\"3\""))
        XCTAssertEqual(last.published, ["head.safetensors", "skipped-val.txt", "run.json"])
    }
}

extension RunFolderTests {
    /// A run.json that is not a dinoprobe run record (another tool's, in a folder given as --out)
    /// is the user's file: the run refuses the folder instead of writing its record over it.
    func testAnotherToolsRunJSONIsNotReplaced() throws {
        let folder = root + "/mine"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let theirs = Data("{\"experiment\": \"kept\"}".utf8)
        try theirs.write(to: URL(fileURLWithPath: folder + "/run.json"))
        for overwrite in [false, true] {
            XCTAssertEqual(refusal(try open("mine", overwrite: overwrite)), .foreignRecord(folder))
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/run.json")), theirs)
        }
    }
}

extension RunFolderTests {
    /// A run of the same command adding other files to a finished run's folder (`segment` on
    /// other images) keeps its record in staging: stopped, it leaves the earlier run.json whole;
    /// finished, run.json lists the earlier files still there beside its own.
    func testARunAddingToAFinishedFolderKeepsTheEarlierRecordUntilItPublishes() throws {
        let first = try open(command: ["dinoprobe", "segment", "a.jpg"], guarding: ["a-mask.png"])
        try Data("m".utf8).write(to: URL(fileURLWithPath: try first.staging() + "/a-mask.png"))
        try first.publish(outputs: ["a-mask.png"])
        first.close()
        let record = try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json"))
        for failed in [false, true] {
            let stopped = try open(command: ["dinoprobe", "segment", "b.jpg"], guarding: ["b-mask.png"])
            try stopped.writeSkipped(["c.jpg\tunreadable"], split: "images")
            if failed { try stopped.update { $0.notes["x"] = "y" } }
            stopped.close()
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json")), record, "failed: \(failed)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: first.path + "/skipped-images.txt"))
        }
        let added = try open(command: ["dinoprobe", "segment", "b.jpg"], guarding: ["b-mask.png"])
        try Data("n".utf8).write(to: URL(fileURLWithPath: try added.staging() + "/b-mask.png"))
        try added.publish(outputs: ["b-mask.png"])
        added.close()
        XCTAssertEqual(added.published, ["b-mask.png", "run.json"])
        XCTAssertEqual(RunRecord.earlierCommand(inFolder: first.path)?.outputs, ["b-mask.png", "a-mask.png", "run.json"])
        XCTAssertEqual(refusal(try open(command: ["dinoprobe", "segment", "a.jpg"], guarding: ["a-mask.png"])),
                       .earlierResult(first.path, result: "a-mask.png"))
    }
}

extension RunFolderTests {
    /// A training state beside finished results is a stopped --overwrite run's (publishing
    /// retires the state): --resume continues it, and the earlier record stays whole until it publishes.
    func testAStoppedOverwriteRunCanBeResumed() throws {
        let first = try open(command: ["dinoprobe", "train-linear", "--epochs", "1"])
        try Data("w1".utf8).write(to: URL(fileURLWithPath: try first.staging() + "/head.safetensors"))
        try first.publish(outputs: ["head.safetensors"])
        first.close()
        let record = try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json"))
        XCTAssertEqual(refusal(try open(resume: true)), .finished(first.path, result: "head.safetensors"), "no state: nothing to resume")
        let stopped = try open(overwrite: true, command: ["dinoprobe", "train-linear", "--epochs", "2"])
        try Data("state".utf8).write(to: URL(fileURLWithPath: stopped.statePath))
        stopped.close()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json")), record)
        XCTAssertEqual(refusal(try open()), .earlierResult(first.path, result: "head.safetensors"))
        let resumed = try open(resume: true, command: ["dinoprobe", "train-linear", "--epochs", "2", "--resume"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.path + "/run.json")), record, "until it publishes")
        XCTAssertNotEqual(resumed.record.runID, first.record.runID, "the finished run's id is not taken over")
        XCTAssertTrue(resumed.record.resumedFrom.isEmpty)
        try Data("w2".utf8).write(to: URL(fileURLWithPath: try resumed.staging() + "/head.safetensors"))
        try resumed.publish(outputs: ["head.safetensors"])
        resumed.close()
        XCTAssertEqual(try String(contentsOfFile: first.path + "/head.safetensors", encoding: .utf8), "w2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.statePath))
        XCTAssertEqual(RunRecord.earlier(inFolder: first.path)?.runID, resumed.record.runID)
    }
}
