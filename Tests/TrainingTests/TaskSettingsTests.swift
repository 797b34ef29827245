import Foundation
import Heads
import Support
import Training
import XCTest

/// Each task's settings: checked against its ranges by name, recorded in run.json and read back equal.
final class TaskSettingsTests: XCTestCase {
    func testEveryDefaultIsValidAndAValueOutOfRangeIsNamed() throws {
        XCTAssertNoThrow(try LinearProbeSettings().validate())
        XCTAssertNoThrow(try LogisticRegressionSettings().validate())
        XCTAssertNoThrow(try SegmentationSettings().validate())
        XCTAssertNoThrow(try DepthSettings().validate())
        XCTAssertNoThrow(try RetrievalSettings().validate())
        XCTAssertNoThrow(try PropagationSettings().validate())
        XCTAssertNoThrow(try CorrespondenceSettings().validate())
        XCTAssertNoThrow(try KNNSettings().validate())
        XCTAssertNoThrow(try FewShotSettings().validate())
        var linear = LinearProbeSettings()
        linear.learningRates = [0.1, .nan]
        XCTAssertThrowsError(try linear.validate()) { XCTAssertEqual(($0 as? SettingError)?.setting, "learningRates") }
        var seg = SegmentationSettings()
        seg.warmup = seg.iterations + 1
        XCTAssertThrowsError(try seg.validate()) {
            XCTAssertEqual($0 as? SettingError, SettingError(setting: "warmup", problem: "is 40001; it must be in 0...40000"))
        }
        var correspondence = CorrespondenceSettings()
        correspondence.size = 100
        XCTAssertThrowsError(try correspondence.validated()) { XCTAssertEqual("\($0)", "size is 100; it must be a multiple of 16") }
    }

    func testTheSettingsRecordedInRunJSONReadBackEqual() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var settings = LinearProbeSettings()
        (settings.learningRates, settings.iterationsPerEpoch, settings.warmupEpochs, settings.seed) = ([1e-3, 0.1], 0, 0.5, .max)
        var record = RunRecord(version: "test", commit: "none", command: ["dinoprobe", "train-linear"], options: .object([]))
        record.record(settings: settings)
        try record.write(toFolder: folder)
        let read = try RecordedRun(path: folder + "/run.json")
        XCTAssertEqual(try read.settings(as: LinearProbeSettings.self), settings)
        XCTAssertNotEqual(try read.settings(as: LinearProbeSettings.self), LinearProbeSettings())
        XCTAssertThrowsError(try read.settings(as: DepthSettings.self), "another task's settings do not decode")
    }

    func testARerunPinsWhatTheCommandLineLeftOutAndRefusesWhatItCannotSay() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rerun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let options = JSONValue.object([("epochs", .number("2")), ("no-warm-start", .bool(false)), ("out", .string("runs/a"))])
        try RunRecord(version: "test", commit: "none", command: ["dinoprobe", "train-linear", "--out", "runs/a"], options: options).write(toFolder: folder)
        let read = try RecordedRun(path: folder + "/run.json")
        // A parse that knows --epochs (default 10) and --warm-start (the old --no-warm-start, inverted).
        func resolve(_ arguments: [String]) -> [String: JSONValue] {
            let epochs = arguments.firstIndex(of: "--epochs").map { arguments[$0 + 1] } ?? "10"
            return ["epochs": .number(epochs), "warm-start": .bool(true), "out": .string("elsewhere")]
        }
        let arguments = RecordedRun.withoutRunFolderFlags(read.arguments)
        XCTAssertEqual(try read.pinned(arguments, unpinned: ["out"], resolve: resolve), ["train-linear", "--epochs", "2"])
        XCTAssertThrowsError(try read.pinned(arguments, unpinned: ["out"]) { _ in ["epochs": .number("3"), "warm-start": .bool(true)] }) {
            XCTAssertTrue("\($0)".contains("cannot reproduce the recorded options"), "\($0)")
        }
    }
}

extension TaskSettingsTests {
    /// A run.json's option names are not trusted: a name that is no option of the command now
    /// ("out=/elsewhere", which would have passed as a flag and moved the rerun's --out) is refused.
    func testARerunRefusesRecordedOptionNamesTheCommandDoesNotHave() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rerun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let options = JSONValue.object([("epochs", .number("10")), ("out=/elsewhere", .bool(true))])
        try RunRecord(version: "test", commit: "none", command: ["dinoprobe", "train-linear"], options: options).write(toFolder: folder)
        let read = try RecordedRun(path: folder + "/run.json")
        func resolve(_ arguments: [String]) -> [String: JSONValue] {
            let out = arguments.last { $0.hasPrefix("--out=") }.map { String($0.dropFirst(6)) } ?? "mine"
            return ["epochs": .number("10"), "out": .string(out)]
        }
        XCTAssertThrowsError(try read.pinned(["train-linear", "--out=mine"], unpinned: ["out"], resolve: resolve)) {
            XCTAssertTrue("\($0)".contains("--out=/elsewhere"), "\($0)")
        }
    }
}
