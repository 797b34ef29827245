import Foundation
import Support
import Datasets
import XCTest

/// ImageFolder listing, class order, labels, fingerprints, and every validation error.
final class DataImageFolderTests: DataTempFolderCase {
    /// train: classes "Zebra", "ant", "bee" (sorted: Zebra < ant < bee by code point).
    func makeTree() throws {
        try write("ds/train/bee/b2.jpg")
        try write("ds/train/bee/b1.JPEG")
        try write("ds/train/bee/notes.txt")
        try write("ds/train/bee/.hidden.jpg")
        try write("ds/train/ant/a1.png")
        try write("ds/train/ant/nested/a0.Jpg")
        try write("ds/train/ant/.cache/skip.jpg")
        try write("ds/train/Zebra/z.jpeg")
        try write("ds/train/.DS_Store")
        try write("ds/train/README.md")
        try write("ds/val/bee/v1.jpg")
        try write("ds/val/Zebra/v2.PNG")
    }

    func testListingOrderAndLabels() throws {
        try makeTree()
        let train = try ImageFolderDataset.load(root: temp + "/ds", split: .train)
        XCTAssertEqual(train.classIDs, ["Zebra", "ant", "bee"])
        XCTAssertEqual(train.classNames, train.classIDs)
        XCTAssertEqual(train.split, .train)
        XCTAssertEqual(train.samples.map { train.relativePath($0.path) },
                       ["train/Zebra/z.jpeg", "train/ant/a1.png", "train/ant/nested/a0.Jpg", "train/bee/b1.JPEG", "train/bee/b2.jpg"])
        XCTAssertEqual(train.labels, [0, 1, 1, 2, 2])
        XCTAssertEqual(train.labels.reduce(into: [0, 0, 0]) { $0[$1] += 1 }, [1, 2, 2])
        XCTAssertTrue(train.paths.allSatisfy { $0.hasPrefix("/") })

        let val = try ImageFolderDataset.load(root: temp + "/ds", split: .val)
        XCTAssertEqual(val.classIDs, train.classIDs, "val uses the train classes")
        XCTAssertEqual(val.samples.map { val.relativePath($0.path) }, ["val/Zebra/v2.PNG", "val/bee/v1.jpg"])
        XCTAssertEqual(val.labels, [0, 2])

        let again = try ImageFolderDataset.loadBoth(root: temp + "/ds/")
        XCTAssertEqual(again.train, train)
        XCTAssertEqual(again.val, val)
    }

    func testRelativeRootIsMadeAbsolute() throws {
        try makeTree()
        let saved = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(saved) }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(temp))
        let train = try ImageFolderDataset.load(root: "ds", split: .train)
        XCTAssertTrue(train.root.hasPrefix("/") && train.root.hasSuffix("/ds"))
    }

    func testFingerprintTracksListingFilesAndLabels() throws {
        try makeTree()
        let a = try ImageFolderDataset.load(root: temp + "/ds", split: .train)
        let f = a.listingFingerprint()
        XCTAssertEqual(f.count, 16)
        XCTAssertEqual(try ImageFolderDataset.load(root: temp + "/ds", split: .train).listingFingerprint(), f)

        var relabelled = a
        relabelled.samples[0].label = 2
        XCTAssertNotEqual(relabelled.listingFingerprint(), f)

        try write("ds/train/bee/b1.JPEG", "longer content")
        XCTAssertNotEqual(try ImageFolderDataset.load(root: temp + "/ds", split: .train).listingFingerprint(), f)

        try makeTree()
        try write("ds/train/bee/b3.jpg")
        XCTAssertNotEqual(try ImageFolderDataset.load(root: temp + "/ds", split: .train).listingFingerprint(), f)
        XCTAssertNotEqual(try ImageFolderDataset.load(root: temp + "/ds", split: .val).listingFingerprint(), f)
    }

    func testMissingRootAndSplitFolders() throws {
        assertThrows(try ImageFolderDataset.load(root: temp + "/nope", split: .train), ["missing data set folder", temp + "/nope"])
        try write("ds/val/a/x.jpg")
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .val), ["missing train split folder", temp + "/ds/train"])
        try FileManager.default.removeItem(atPath: temp + "/ds/val")
        try write("ds/train/a/x.jpg")
        try write("ds/train/b/y.jpg")
        XCTAssertNoThrow(try ImageFolderDataset.load(root: temp + "/ds", split: .train))
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .val), ["the data set has no val split", temp + "/ds/val"])
    }

    func testFewerThanTwoClasses() throws {
        try write("ds/train/only/x.jpg")
        try write("ds/val/only/y.jpg")
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .train), [temp + "/ds/train", "1 class folder", "at least 2"])
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .val), ["at least 2"])
    }

    func testEmptyClassIsNamed() throws {
        try write("ds/train/a/x.jpg")
        try write("ds/train/b/readme.txt")
        try write("ds/train/b/.hidden.png")
        try write("ds/val/a/y.jpg")
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .train), ["class folder \(temp!)/ds/train/b holds no image files"])
        try write("ds/train/b/z.png")
        try mkdir("ds/val/b")
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .val), ["\(temp!)/ds/val/b holds no image files"])
    }

    func testValClassMissingFromTrain() throws {
        try write("ds/train/a/x.jpg")
        try write("ds/train/b/x.jpg")
        try write("ds/val/a/y.jpg")
        try write("ds/val/c/y.jpg")
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .val),
                     ["val class folder \(temp!)/ds/val/c has no matching class folder in \(temp!)/ds/train"])
    }

    func testEmptyValSplit() throws {
        try write("ds/train/a/x.jpg")
        try write("ds/train/b/x.jpg")
        try mkdir("ds/val")
        assertThrows(try ImageFolderDataset.load(root: temp + "/ds", split: .val), ["no images found in \(temp!)/ds/val"])
    }

    func testErrorsAreTypedDatasetErrors() throws {
        XCTAssertThrowsError(try ImageFolderDataset.load(root: temp + "/missing", split: .train)) { error in
            guard case DatasetError.missingFolder = error else { return XCTFail("expected DatasetError.missingFolder, got \(error)") }
        }
    }
}
