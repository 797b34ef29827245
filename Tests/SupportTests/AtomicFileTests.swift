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

    func testLinksAreNeverWrittenThroughAndSpecialFilesRefused() throws {
        try AtomicFile.write(Data("target".utf8), to: folder + "/real.txt")
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.txt", withDestinationPath: folder + "/real.txt")
        try FileManager.default.createSymbolicLink(atPath: folder + "/dangling.txt", withDestinationPath: folder + "/new.txt")
        for link in ["link.txt", "dangling.txt"] {
            XCTAssertThrowsError(try AtomicFile.write(Data("through the link".utf8), to: folder + "/" + link)) {
                XCTAssertEqual("\($0)", "\(folder!)/\(link) is a symbolic link; dinoprobe never writes through a link (it would replace the file it points to): remove the link, or choose another output name")
            }
            XCTAssertThrowsError(try AtomicFile.checkWritable(folder + "/" + link)) { XCTAssertTrue("\($0)".contains("is a symbolic link")) }
        }
        XCTAssertEqual(try String(contentsOfFile: folder + "/real.txt", encoding: .utf8), "target")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/new.txt"))
        // A link planted while the file is written is refused at the rename, and nothing stays behind.
        let output = try AtomicFile.begin(folder + "/late.txt")
        try output.write(Data("late".utf8))
        try FileManager.default.createSymbolicLink(atPath: folder + "/late.txt", withDestinationPath: folder + "/real.txt")
        XCTAssertThrowsError(try output.commit()) { XCTAssertTrue("\($0)".contains("late.txt is a symbolic link"), "\($0)") }
        XCTAssertEqual(try String(contentsOfFile: folder + "/real.txt", encoding: .utf8), "target")
        XCTAssertEqual(names(), ["dangling.txt", "late.txt", "link.txt", "real.txt"])
        // Folders on the way may be links: only the final name is guarded.
        try FileManager.default.createSymbolicLink(atPath: folder + "/linked-folder", withDestinationPath: folder + "/sub")
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        try AtomicFile.write(Data("in a linked folder".utf8), to: folder + "/linked-folder/out.txt")
        XCTAssertEqual(try String(contentsOfFile: folder + "/sub/out.txt", encoding: .utf8), "in a linked folder")
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
