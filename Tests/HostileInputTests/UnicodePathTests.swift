import Foundation
import Support
import TestSupport
import XCTest

/// Issue 36: `String`'s `split(separator:)`, `hasPrefix` and `==` work on grapheme clusters under
/// canonical equivalence, the file system on bytes. A "/" followed by a combining mark
/// (`"/\u{301}"`) or after a prepend character (`"\u{600}/"`) is one `Character`, so a split on
/// "/" missed it and `../\u{301}x` passed the confinement check while the file system read
/// `<root>/../\u{301}x`; and `/d/e\u{301}x/secret` "has the prefix" `/d/\u{e9}x/`, another folder.
final class UnicodePathTests: HostileTestCase {
    /// Entries that climb out, are absolute or hold a `.` component byte-wise, hidden from a
    /// split on `Character`s.
    static let hidden = ["../\u{301}x", "x\u{600}/../../\u{301}y", "\u{600}/../x", "/\u{301}etc/passwd", "a/./\u{301}b",
                         "..\u{10FF2F}x", "a//\u{301}b"]

    func testTheTextCheckCutsOnBytes() {
        for entry in Self.hidden {
            XCTAssertNotNil(ConfinedPath.problem(with: entry), entry.debugDescription)
        }
        XCTAssertEqual(ConfinedPath.problem(with: "/\u{301}etc/passwd"), "is an absolute path")
        XCTAssertEqual(ConfinedPath.problem(with: "../\u{301}x"), "climbs out of the folder with '..'")
        // Combining marks and prepend characters inside a name are fine.
        for entry in ["a/\u{301}b", "\u{600}x/y", "e\u{301}/\u{e9}.jpg", "a/..\u{301}/b"] {
            XCTAssertNil(ConfinedPath.problem(with: entry), entry.debugDescription)
        }
    }

    func testResolveRefusesHiddenClimbsEvenForMissingFiles() throws {
        try write("root/in/x", "x")
        try write("\u{301}x", "secret")
        let folder = try ConfinedFolder(temp + "/root")
        for entry in ["../\u{301}x", "../\u{301}missing", "in/../../\u{301}x"] {
            XCTAssertThrowsError(try folder.resolve(entry, listedIn: "list", line: 3), entry.debugDescription) {
                XCTAssertEqual(($0 as? ConfinedPath.Refusal)?.line, 3)
            }
        }
        XCTAssertEqual(try folder.resolve("in/\u{301}missing", listedIn: "list"), temp + "/root/in/\u{301}missing")
    }

    /// The data set folder `\u{e9}x` (NFC) with a link to `e\u{301}x/secret` (NFD), a different
    /// folder next to it that `hasPrefix` took for the same one.
    func testResolveComparesRealPathsAsBytes() throws {
        let nfc = temp + "/\u{e9}x", nfd = temp + "/e\u{301}x"
        try FileSystem.createDirectories(nfc)
        try FileSystem.createDirectories(nfd)
        try AtomicFile.write(Data("secret".utf8), to: nfd + "/secret")
        XCTAssertFalse(FileSystem.exists(nfc + "/secret"), "two folders on the file system")
        try FileManager.default.createSymbolicLink(atPath: nfc + "/link", withDestinationPath: "../e\u{301}x/secret")
        try FileManager.default.createSymbolicLink(atPath: nfc + "/dir", withDestinationPath: "../e\u{301}x")
        let folder = try ConfinedFolder(nfc)
        assertRefused(try folder.resolve("link", listedIn: "list"), ["symbolic link", "outside"])
        assertRefused(try folder.resolve("dir/missing", listedIn: "list"), ["symbolic link"])
        XCTAssertThrowsError(try FileSystem.confined(nfc + "/link", to: nfc))
        XCTAssertEqual(try FileSystem.confined(nfd + "/secret", to: nfd), nfd + "/secret")
    }

    func testPathHelpersCutOnBytes() {
        XCTAssertEqual(FileSystem.absolute("/\u{301}x/./y"), "/\u{301}x/y")
        XCTAssertEqual(FileSystem.absolute("/a/x\u{600}/../b"), "/a/b")
        XCTAssertEqual(FileSystem.spelled("/d/e\u{301}x/a.png", below: "/d/\u{e9}x"), "/d/e\u{301}x/a.png", "another folder")
        XCTAssertEqual(FileSystem.spelled("/d/\u{e9}x/a.png", below: "/d/\u{e9}x/"), "/d/\u{e9}x/a.png")
        XCTAssertTrue(ByteText.isInside("/d/a/b", folder: "/d/a"))
        XCTAssertTrue(ByteText.isInside("/x", folder: "/"))
        XCTAssertFalse(ByteText.isInside("/d/ab", folder: "/d/a"))
        XCTAssertFalse(ByteText.isInside("/d/e\u{301}x/s", folder: "/d/\u{e9}x"))
        XCTAssertEqual(ByteText.lastComponent("a/\u{301}b"), "\u{301}b")
        XCTAssertEqual(ByteText.dropLastComponent("\u{600}/b"), "\u{600}")
        XCTAssertEqual(ByteText.split("k=\u{301}v|x", on: "|"), ["k=\u{301}v", "x"])
        XCTAssertEqual(ByteText.split("\u{600}|x", on: "|"), ["\u{600}", "x"])
        XCTAssertEqual(ByteText.fields("a.jpg \u{301}b.png 1"), ["a.jpg", "\u{301}b.png", "1"])
        XCTAssertFalse(ByteText.same("e\u{301}", "\u{e9}"))
    }
}
