import Foundation
import Support
import TestSupport
import Datasets
import Training
import XCTest

/// Class 7: symbolic-link loops end, class folders whose names are not UTF-8 are used, and an
/// error in a val split is reported rather than taken for "no val split".
final class FolderWalkTests: HostileTestCase {
    func testSymlinkLoopsAndLinksToAncestorsAreWalkedOnce() throws {
        let root = temp + "/ds"
        XCTAssertEqual(try CLI.run(["synth", "classification", "--out", root, "--classes", "2", "--count", "3", "--size", "32"]).status, 0)
        // train/class_0/loop -> train/class_0 and train/class_1/up -> train: both loops.
        try FileManager.default.createSymbolicLink(atPath: root + "/train/class_0/loop", withDestinationPath: root + "/train/class_0")
        try FileManager.default.createSymbolicLink(atPath: root + "/train/class_1/up", withDestinationPath: "..")
        let start = Date()
        let train = try ImageFolderDataset.load(root: root, split: .train)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(train.count, 6)
        XCTAssertEqual(train.listingProblems.count, 2)
        XCTAssertTrue(train.listingProblems.allSatisfy { $0.reason.contains("already listed") }, "\(train.listingProblems)")
        // A link to a folder outside the data set is followed (ImageFolder follows links).
        try FileManager.default.createDirectory(atPath: temp + "/extra", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.fixtureImages + "/rgb_300x200.jpg", toPath: temp + "/extra/more.jpg")
        try FileManager.default.createSymbolicLink(atPath: root + "/train/class_1/extra", withDestinationPath: temp + "/extra")
        XCTAssertEqual(try ImageFolderDataset.load(root: root, split: .train).count, 7)
    }

    func testClassFoldersNamedWithNonUTF8BytesAreUsed() throws {
        let root = temp + "/bytes"
        XCTAssertEqual(try CLI.run(["synth", "classification", "--out", root, "--classes", "2", "--count", "3", "--size", "32"]).status, 0)
        for split in ["train", "val"] {
            let from = Array("\(root)/\(split)/class_1".utf8) + [0]
            let to = Array("\(root)/\(split)/caf".utf8) + [0xE9, 0]
            XCTAssertEqual(from.withUnsafeBufferPointer { f in to.withUnsafeBufferPointer { t in
                rename(UnsafeRawPointer(f.baseAddress!).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: CChar.self))
            } }, 0)
        }
        let train = try ImageFolderDataset.load(root: root, split: .train)
        XCTAssertEqual(train.classIDs.count, 2)
        XCTAssertEqual(PathCodec.display(train.classIDs[0]), "caf\\xE9")
        XCTAssertEqual(train.count, 6)
        let r = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", root, "--no-cache", "--epochs", "1",
                             "--iters-per-epoch", "3", "--batch-size", "2", "--out", temp + "/run"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("caf\\xE9"), r.stdout)
    }

    func testAnErrorInTheValSplitIsNotNoValSplit() throws {
        let root = temp + "/seg"
        XCTAssertEqual(try CLI.run(["synth", "segmentation", "--out", root, "--count", "4", "--size", "32"]).status, 0)
        // Val images are there but their masks folder is not: that is an error, not "no val split".
        try FileManager.default.removeItem(atPath: root + "/masks/val")
        let r = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", root, "--resolution", "32", "--iters", "2",
                             "--batch-size", "2", "--no-cache", "--out", temp + "/run"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("masks"), r.stderr)
        XCTAssertFalse(r.stderr.contains("no val split"), r.stderr)
        // Without any val images, training goes on and says so.
        try FileManager.default.removeItem(atPath: root + "/images/val")
        let noVal = try CLI.run(["train-seg", "--model", CLI.tinyModel, "--data", root, "--resolution", "32", "--iters", "2",
                                 "--batch-size", "2", "--no-cache", "--out", temp + "/run2"])
        XCTAssertEqual(noVal.status, 0, noVal.stderr)
        XCTAssertTrue(noVal.stderr.contains("no val split"), noVal.stderr)
    }
}
