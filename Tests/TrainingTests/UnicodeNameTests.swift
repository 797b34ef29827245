import Foundation
import Heads
import Support
@testable import Training
import XCTest

/// Issue 36: names of files are bytes; `String`'s `==`, `hasPrefix`, `contains` and
/// `split(separator:)` work on `Character`s under canonical equivalence. Each test here failed
/// before the run-folder and feature-cache code compared names as bytes (`ByteText`).
final class UnicodeNameTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("unicode-names-\(UUID().uuidString)").path
        try FileSystem.createDirectories(root)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func touch(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: ByteText.parent(of: path), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A sealed staging folder whose manifest (a file anyone with access to the run folder can
    /// edit) names `../\u{301}victim`: `"../\u{301}victim".contains("/")` is false for `String`,
    /// so recovery renamed and deleted files outside the run folder.
    func testRecoveryRefusesManifestNamesThatLeaveTheRunFolder() throws {
        let run = root + "/run", staging = run + "/" + RunPublication.folderName
        try touch(root + "/\u{301}victim")
        try touch(run + "/\u{301}kept")
        try touch(staging + "/run.json")
        let manifest = #"{"outputs": ["../\u0301kept"], "retiring": ["../\u0301victim", ".replaced-\u0301x"]}"#
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: staging + "/.manifest.json"))
        _ = try RunPublication.recover(runFolder: run)
        XCTAssertTrue(FileSystem.exists(root + "/\u{301}victim"), "a file outside the run folder was deleted")
        XCTAssertTrue(FileSystem.exists(run + "/\u{301}kept"))
        XCTAssertFalse(FileSystem.exists(root + "/\u{301}kept"), "a file was moved out of the run folder")
        for name in ["../\u{301}x", "a/\u{301}b", "\u{600}/x", ".replaced-\u{301}x", ".staging", "..\u{10FF2F}x"] {
            XCTAssertFalse(RunPublication.isPlainName(name), name.debugDescription)
        }
        XCTAssertTrue(RunPublication.isPlainName("\u{301}x"))
    }

    /// The top-level entry of a staged output is its first component, cut on bytes.
    func testPublishMovesOutputsWhoseNamesStartWithACombiningMark() throws {
        let run = try RunFolder(root + "/run", prefix: "test", overwrite: false, guarding: ["masks"],
                                record: RunRecord(version: "test", commit: "none", command: ["test"], options: JSONValue(describing: [String: Any]())))
        let staging = try run.staging()
        try touch(staging + "/masks/\u{301}a.png")
        try touch(staging + "/masks/b.png")
        try run.publish(outputs: ["masks/\u{301}a.png", "masks/b.png"])
        run.close()
        XCTAssertTrue(FileSystem.exists(run.path + "/masks/\u{301}a.png"))
        XCTAssertTrue(FileSystem.exists(run.path + "/masks/b.png"))
    }

    /// `dropLast(12)` on Characters dropped a prepend character before ".safetensors", and
    /// `hasPrefix`/`==` took another file's parts (`\u{e9}` for `e\u{301}`) for this file's.
    func testFeatureCachePartsAreNamedAndFoundByBytes() throws {
        XCTAssertEqual(StoreParts(file: root + "/a\u{600}.safetensors").path(0..<10),
                       root + "/a\u{600}.part-0000000000-0000000010.safetensors")
        try touch(root + "/\u{e9}.part-0000000000-0000000010.safetensors")
        XCTAssertEqual(StoreParts(file: root + "/e\u{301}.safetensors").ranges, [])
        XCTAssertEqual(StoreParts(file: root + "/\u{e9}.safetensors").ranges, [0..<10])
    }

    /// `removeUnclaimed` deletes killed writers' temporary files of one file; `hasPrefix` also
    /// matched those of a canonically equivalent name, another file a live process may be writing.
    func testUnclaimedTemporaryFilesOfAnEquivalentNameAreKept() throws {
        let other = root + "/.\u{e9}.safetensors~dinoprobe-tmp~h~1~2", own = root + "/.e\u{301}.safetensors~dinoprobe-tmp~h~1~3"
        try touch(other)
        try touch(own)
        XCTAssertEqual(TemporaryFiles.removeUnclaimed(of: root + "/e\u{301}.safetensors"), [".e\u{301}.safetensors~dinoprobe-tmp~h~1~3"])
        XCTAssertTrue(FileSystem.exists(other))
    }
}
