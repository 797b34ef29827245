import Foundation
import TestSupport
import XCTest

/// `convert`'s destinations are checked before any work, and its errors are sentences, never
/// Foundation's NSError dumps.
final class ConvertCLITests: XCTestCase {
    var dir: URL!
    let pth = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth").path

    override func setUpWithError() throws { dir = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// A refused conversion: status 1, a message with every fragment and no NSError dump.
    func assertRefused(_ arguments: [String], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(["convert"] + arguments)
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        for fragment in fragments { XCTAssertTrue(r.stderr.contains(fragment), "expected '\(fragment)' in: \(r.stderr)", file: file, line: line) }
        XCTAssertFalse(r.stderr.contains("Domain"), r.stderr, file: file, line: line)
    }

    /// Names in `folder` (hidden temporary files included).
    func contents(_ folder: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

    /// config.json is a FIFO or a folder: refused by name before model.safetensors is written,
    /// with or without --overwrite.
    func testAConfigThatIsNotAFileIsRefusedBeforeAnythingIsWritten() throws {
        let fifoOut = path("fifo"), folderOut = path("folder")
        try FileManager.default.createDirectory(atPath: fifoOut, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(fifoOut + "/config.json", 0o644), 0)
        try FileManager.default.createDirectory(atPath: folderOut + "/config.json", withIntermediateDirectories: true)
        for overwrite in [[], ["--overwrite"]] {
            try assertRefused([pth, "--out", fifoOut] + overwrite, [fifoOut + "/config.json is a FIFO"])
            XCTAssertEqual(try contents(fifoOut), ["config.json"])
            try assertRefused([pth, "--out", folderOut] + overwrite, [folderOut + "/config.json is a folder"])
            XCTAssertEqual(try contents(folderOut), ["config.json"])
        }
        let weightsFolder = path("weights")
        try FileManager.default.createDirectory(atPath: weightsFolder + "/model.safetensors", withIntermediateDirectories: true)
        try assertRefused([pth, "--out", weightsFolder, "--overwrite"], [weightsFolder + "/model.safetensors is a folder"])
        XCTAssertEqual(try contents(weightsFolder), ["model.safetensors"])
    }

    /// --out names a file: refused by name (it was an NSCocoaErrorDomain dump), nothing created.
    func testAnOutputThatIsAFileIsRefusedByName() throws {
        let file = path("file")
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        try assertRefused([pth, "--out", file], [file + " is a regular file, not a folder"])
        try assertRefused([pth, "--out", file + "/sub"], [file + " is a regular file, not a folder"])
        XCTAssertEqual(try contents(dir.path), ["file"])
    }

    /// A missing or unreadable input: a readable message naming it, and no output folder made.
    func testAnUnreadableInputIsReportedAndNothingIsCreated() throws {
        let out = path("out")
        try assertRefused([path("missing.pth"), "--out", out], [path("missing.pth"), "no such file"])
        try assertRefused([dir.path, "--out", out], [dir.path, "is a folder, not a regular file"])
        let locked = path("locked.pth")
        XCTAssertTrue(FileManager.default.createFile(atPath: locked, contents: Data("x".utf8), attributes: [.posixPermissions: 0]))
        if getuid() != 0 { try assertRefused([locked, "--out", out], [locked, "Permission denied"]) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// A good conversion still works, and its config.json holds integers and floats as such.
    func testAConversionWritesTypedConfig() throws {
        let out = path("ok")
        let r = try CLI.run(["convert", pth, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        XCTAssertTrue(text.contains("\"num_register_tokens\": 4,") && text.contains("\"layer_norm_eps\": 1e-05,") && text.contains("\"query_bias\": true,"), text)
    }
}
