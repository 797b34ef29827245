import Foundation
import Support
import XCTest

/// Files appear whole or not at all; destinations that are not regular files are refused.
final class AtomicFileTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func names() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

    func testWritesAppearWholeAndFailuresLeaveThePreviousFile() throws {
        let path = folder + "/sub/dir/out.txt"
        try AtomicFile.write(Data("first".utf8), to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first")
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: path) { output in
            try output.write(Data("half of the sec".utf8))
            throw Boom()
        })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/sub/dir"), ["out.txt"])
        try AtomicFile.write(to: path) { output in
            try output.write(Data("sec".utf8))
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first")  // not yet visible
            try output.write(Data("ond".utf8))
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second")
    }

    func testSymlinkTargetsAreReplacedAndSpecialFilesRefused() throws {
        try AtomicFile.write(Data("target".utf8), to: folder + "/real.txt")
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.txt", withDestinationPath: folder + "/real.txt")
        try AtomicFile.write(Data("through the link".utf8), to: folder + "/link.txt")
        XCTAssertEqual(try String(contentsOfFile: folder + "/real.txt", encoding: .utf8), "through the link")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/link.txt"), folder + "/real.txt")
        XCTAssertEqual(mkfifo(folder + "/fifo", 0o644), 0)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: folder + "/fifo")) { XCTAssertTrue("\($0)".contains("is a FIFO")) }
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: "/dev/null")) { XCTAssertTrue("\($0)".contains("character device")) }
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: folder)) { XCTAssertTrue("\($0)".contains("is a folder")) }
        XCTAssertThrowsError(try AtomicFile.checkWritable(folder + "/real.txt/inside")) { XCTAssertTrue("\($0)".contains("not a folder")) }
    }

    func testDiscardedAndStaleTemporariesAreRemoved() throws {
        let output = try AtomicFile.begin(folder + "/spool")
        try output.write(Data("abc".utf8))
        XCTAssertTrue(names().contains { $0.contains("~dinoprobe-tmp~") })
        output.discard()
        XCTAssertEqual(names(), [])
        // A temporary of a process of this host that no longer runs goes with the first write into
        // its folder (each folder is looked at once per process).
        let other = folder + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let stale = ".x~dinoprobe-tmp~\(TemporaryFiles.host)~999999~7"
        let live = ".y~dinoprobe-tmp~\(TemporaryFiles.host)~\(getpid() == 1 ? 2 : 1)~7"  // pid 1 always runs
        XCTAssertTrue(FileManager.default.createFile(atPath: other + "/" + stale, contents: Data("old".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: other + "/" + live, contents: Data("live".utf8)))
        try AtomicFile.write(Data("new".utf8), to: other + "/x")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other).sorted(), [live, "x"])
    }

    func testFolderLocksAreExclusiveAndReleased() throws {
        let lock = try FolderLock(folder: folder + "/run")
        XCTAssertThrowsError(try FolderLock(folder: folder + "/run")) { XCTAssertTrue("\($0)".contains("in use by another dinoprobe run")) }
        lock.releaseRemovingIfEmpty()
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/run"))
        let again = try FolderLock(folder: folder + "/run")
        try AtomicFile.write(Data("result".utf8), to: folder + "/run/result.txt")
        again.releaseRemovingIfEmpty()
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/run/result.txt"))
    }
}
