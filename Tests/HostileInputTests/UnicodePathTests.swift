import Datasets
import Foundation
import Support
import TestSupport
import Training
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
        XCTAssertEqual(FileSystem.absolute("/a/../\u{301}b"), "/\u{301}b", "a '..' before '/' + a combining mark is resolved")
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

    /// `NSString.lastPathComponent` and `deletingLastPathComponent` crash (SIGILL) on a path of
    /// one Character on this Foundation, and miss a "/" before a combining mark; every path of
    /// dinoprobe's is cut by `ByteText.parent(of:)`/`name(of:)` instead.
    func testPathsAreCutOnBytesWithoutNSString() {
        XCTAssertTrue(TemporaryFiles.path(beside: "a").hasPrefix(".a~dinoprobe-tmp~"))
        XCTAssertTrue(TemporaryFiles.path(beside: "/d/\u{301}x").hasPrefix("/d/.\u{301}x~dinoprobe-tmp~"))
        for (path, parent, name) in [("x", "", "x"), ("/x", "/", "x"), ("a/b/", "a", "b"), ("/", "/", "/"), ("//a//b", "//a", "b"),
                                     ("/d/\u{301}x", "/d", "\u{301}x"), ("d\u{600}/x", "d\u{600}", "x")] {
            XCTAssertEqual(ByteText.parent(of: path), parent, path.debugDescription)
            XCTAssertEqual(ByteText.name(of: path), name, path.debugDescription)
        }
        XCTAssertEqual(ByteText.stem(of: "a\u{600}.jpg"), "a\u{600}")
        XCTAssertEqual(ByteText.pathExtension(of: "a.\u{301}jpg"), "\u{301}jpg")
    }

    /// An NYU list line "a.jpg \u{301}b.png 1": " \u{301}" is one whitespace Character, and the
    /// split on it dropped the mark, so the list's depth map was read from `b.png`.
    func testNYUFieldsAreCutOnWhiteSpaceScalars() throws {
        try write("nyu/a.jpg", "x")
        try write("nyu/\u{301}b.png", "x")
        try write("nyu/nyu_train.txt", "a.jpg \u{301}b.png 518.8\n")
        let dataset = try DepthDataset.load(root: temp + "/nyu", split: .train, layout: .nyu)
        XCTAssertEqual(dataset.samples.map(\.depth), [temp + "/nyu/\u{301}b.png"])
    }

    /// Two files whose names are canonically equivalent are two files: a VOC list naming both,
    /// or a command line naming both, keeps both (a `Set<String>`/`[String: _]` kept one).
    func testCanonicallyEquivalentNamesAreDifferentFiles() throws {
        let voc = "data/VOC2012/"
        for id in ["e\u{301}", "\u{e9}"] {
            try write(voc + "JPEGImages/\(id).jpg", Data([0xFF, 0xD8]))
            try write(voc + "SegmentationClass/\(id).png", Data([0x89]))
        }
        try write(voc + "ImageSets/Segmentation/train.txt", "e\u{301}\n\u{e9}\ne\u{301}\n")
        let dataset = try PascalVOC.load(root: temp + "/data", split: .train)
        XCTAssertEqual(Set(dataset.samples.map { PathCodec.bytes(of: $0.image) }).count, 2)
        let images = [temp + "/" + voc + "JPEGImages/e\u{301}.jpg", temp + "/" + voc + "JPEGImages/\u{e9}.jpg"]
        XCTAssertEqual(try ImageFiles.expand(images + [images[0]]).images.count, 2)
        XCTAssertEqual(ImageFiles.outputNames(for: ["/d/a\u{600}.jpg"]), ["d/a\u{600}"], "the stem keeps its last scalar")
    }

    /// Paths made relative to a folder by `hasPrefix` + `dropFirst(count)` on Characters stayed
    /// absolute when the first name began with a combining mark (so a noisy-label table, keyed by
    /// relative path, did not find the image), or lost the mark.
    func testRelativePathsAreCutOnBytes() {
        let dataset = ClassificationDataset(root: "/d/train", split: .train, samples: [], classIDs: ["n1"])
        XCTAssertEqual(dataset.relativePath("/d/train/\u{301}n1/x.JPEG"), "\u{301}n1/x.JPEG")
        XCTAssertEqual(dataset.relativePath("/d/train\u{301}/x.JPEG"), "/d/train\u{301}/x.JPEG")
        XCTAssertEqual(ByteText.relative("/s/.staging/\u{301}x.png", to: "/s/.staging"), "\u{301}x.png")
        XCTAssertNil(ByteText.relative("/s/e\u{301}/x", to: "/s/\u{e9}"))
    }
}

