import Datasets
import Foundation
import Support
import TestSupport
import XCTest

/// Class 2 (issue 33): paths that come from inside files (VOC split lists, Imagenette's noisy-label
/// CSV, shard names of an index) go through one confinement check, `ConfinedPath`/`ConfinedFolder`,
/// which refuses `..`, absolute paths, empty names, control characters and symbolic links that
/// lead out of the root, naming the entry, the list and the line. Before it, VOC joined every
/// entry to the root, so `../../outside/secret` was read, scored and embedded in the report.
final class ListFileConfinementTests: HostileTestCase {
    /// A VOC layout under `temp/data` with images a and b, a secret image next to it, and `list`
    /// as the train split. Returns the data set root.
    @discardableResult
    func vocLayout(list: String) throws -> String {
        let voc = "data/VOC2012/"
        for id in ["a", "b"] {
            try write(voc + "JPEGImages/\(id).jpg", Data([0xFF, 0xD8]))
            try write(voc + "SegmentationClass/\(id).png", Data([0x89]))
        }
        try write("outside/secret.jpg", "secret")
        try write("outside/secret.png", "secret")
        try write(voc + "ImageSets/Segmentation/train.txt", list)
        return temp + "/data"
    }

    func testVOCRefusesEntriesThatClimbOutOrAreAbsolute() throws {
        for (entry, reason) in [("../../../outside/secret", "'..'"), ("/etc/passwd", "absolute"), ("a//b", "empty or '.'"),
                                ("./a", "empty or '.'"), ("a\u{0}b", "control character"), ("a\rb", "control character"),
                                ("a\u{1B}]0;PWNED\u{07}", "control character")] {
            let root = try vocLayout(list: "a\n\(entry)\nb\n")
            let message = assertRefused(try PascalVOC.load(root: root, split: .train), ["train.txt line 2", reason])
            XCTAssertTrue(message.contains(ConfinedPath.shown(entry)), "the entry is named: \(message)")
            XCTAssertFalse(message.contains("\u{1B}") || message.contains("\u{0}"), "control characters are shown escaped: \(message)")
        }
    }

    func testVOCRefusesASymlinkLeadingOutOfTheRoot() throws {
        let root = try vocLayout(list: "a\nlink\n")
        try FileManager.default.createSymbolicLink(atPath: root + "/VOC2012/JPEGImages/link.jpg", withDestinationPath: temp + "/outside/secret.jpg")
        assertRefused(try PascalVOC.load(root: root, split: .train), ["train.txt line 2", "'JPEGImages/link.jpg'", "symbolic link", "secret.jpg"])
        // A linked folder leading out is refused too, even for a file that does not exist there.
        let other = try vocLayout(list: "dir/missing\n")
        try FileManager.default.createSymbolicLink(atPath: other + "/VOC2012/JPEGImages/dir", withDestinationPath: temp + "/outside")
        assertRefused(try PascalVOC.load(root: other, split: .train), ["line 1", "symbolic link"])
    }

    func testVOCAcceptsSymlinksInsideTheRootAndALinkedRoot() throws {
        let root = try vocLayout(list: "a\ninside\nb\r\n")
        try FileManager.default.createSymbolicLink(atPath: root + "/VOC2012/JPEGImages/inside.jpg", withDestinationPath: "a.jpg")
        try FileManager.default.createSymbolicLink(atPath: temp + "/linked", withDestinationPath: root)
        for given in [root, temp + "/linked"] {
            let dataset = try PascalVOC.load(root: given, split: .train)
            XCTAssertEqual(dataset.samples.map { ($0.image as NSString).lastPathComponent }, ["a.jpg", "b.jpg", "inside.jpg"])
            XCTAssertTrue(dataset.samples.allSatisfy { $0.image.hasPrefix(given + "/VOC2012/JPEGImages/") })
        }
    }

    func testNoisyLabelCSVRefusesPathsOutsideTheDataSet() throws {
        for entry in ["../../etc/passwd", "/etc/passwd", "train/\u{1B}[2J.JPEG"] {
            let csv = try write("noisy.csv", "path,noisy_labels_0,is_valid\ntrain/n1/x.JPEG,n1,False\n\(entry),n1,False\n")
            assertRefused(try NoisyLabels.read(csvAt: csv, percent: 0), ["noisy.csv line 3"])
        }
        let csv = try write("noisy.csv", "path,noisy_labels_0\ntrain/n1/x.JPEG,n1\n")
        XCTAssertEqual(try NoisyLabels.read(csvAt: csv, percent: 0), ["train/n1/x.JPEG": "n1"])
    }

    func testShardIndexNamesGoThroughTheSameRule() {
        XCTAssertTrue(WeightMap.isShardName("model-00001-of-00002.safetensors"))
        for name in ["../x.safetensors", "/x.safetensors", "a/./x.safetensors", "x\u{1B}[2J.safetensors", "x\n.safetensors"] {
            XCTAssertFalse(WeightMap.isShardName(name), name.debugDescription)
        }
    }

    func testTheCheckOnItsOwn() throws {
        XCTAssertNil(ConfinedPath.problem(with: "a/b.jpg"))
        XCTAssertNil(ConfinedPath.problem(with: "..a/b..c"))
        for entry in ["", "..", "a/../../b", "/a", "a/", "a\nb", String(repeating: "a", count: 5000)] {
            XCTAssertNotNil(ConfinedPath.problem(with: entry), entry.debugDescription)
        }
        try write("root/in/x", "x")
        let folder = try ConfinedFolder(temp + "/root")
        XCTAssertEqual(try folder.resolve("in/x", listedIn: "list"), temp + "/root/in/x")
        XCTAssertEqual(try folder.resolve("in/missing/y", listedIn: "list"), temp + "/root/in/missing/y")
        XCTAssertThrowsError(try folder.resolve("../root/in/x", listedIn: "list", line: 7)) {
            XCTAssertEqual(($0 as? ConfinedPath.Refusal)?.line, 7)
            XCTAssertEqual(($0 as? ConfinedPath.Refusal)?.entry, "../root/in/x")
        }
    }
}
