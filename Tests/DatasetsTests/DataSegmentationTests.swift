import Foundation
import Support
import Images
import Datasets
import XCTest

/// ADE20K, Pascal VOC and plain-folder segmentation layouts: pairing, reduce-zero-label, ignore
/// handling, and the per-file reports of bad pairs.
final class DataSegmentationTests: DataTempFolderCase {
    func testClassTablesAndVOCColourMap() {
        XCTAssertEqual(ADE20K.classNames.count, 150)
        XCTAssertEqual(Set(ADE20K.classNames).count, 150)
        XCTAssertEqual(ADE20K.palette.count, 450)
        XCTAssertEqual(Array(ADE20K.palette.prefix(6)), [120, 120, 120, 180, 120, 120])
        XCTAssertEqual(ADE20K.classNames.first, "wall")
        XCTAssertEqual(ADE20K.classNames.last, "flag")
        XCTAssertEqual(PascalVOC.classNames.count, 21)
        let map = Palette.voc()
        XCTAssertEqual(map.count, 768)
        func color(_ i: Int) -> [UInt8] { Array(map[3 * i ..< 3 * i + 3]) }
        XCTAssertEqual(color(0), [0, 0, 0])
        XCTAssertEqual(color(1), [128, 0, 0])
        XCTAssertEqual(color(2), [0, 128, 0])
        XCTAssertEqual(color(3), [128, 128, 0])
        XCTAssertEqual(color(15), [192, 128, 128])  // person
        XCTAssertEqual(color(20), [0, 64, 128])     // tvmonitor
        XCTAssertEqual(color(255), [224, 224, 192]) // border
    }

    /// ADEChallengeData2016 with 3 training pairs (one bad of each kind is added by tests).
    func makeADE() throws -> String {
        let base = "ade/ADEChallengeData2016"
        try writeImage("\(base)/images/training/ADE_train_00000002.jpg", width: 4, height: 2)
        try writeGreyMask("\(base)/annotations/training/ADE_train_00000002.png", width: 4, height: 2, labels: [0, 1, 2, 150, 255, 1, 1, 0])
        try writeImage("\(base)/images/training/ADE_train_00000001.jpg", width: 3, height: 3)
        try writeGreyMask("\(base)/annotations/training/ADE_train_00000001.png", width: 3, height: 3, labels: [UInt8](repeating: 5, count: 9))
        try writeImage("\(base)/images/validation/ADE_val_00000001.jpg", width: 2, height: 2)
        try writeGreyMask("\(base)/annotations/validation/ADE_val_00000001.png", width: 2, height: 2, labels: [1, 2, 3, 4])
        try write("\(base)/images/training/.DS_Store")
        try write("\(base)/annotations/training/ADE_train_99999999.png", "orphan masks are ignored")
        return temp + "/ade"
    }

    func testADE20KPairingAndReduceZeroLabel() throws {
        let parent = try makeADE()
        let train = try SegmentationDataset.load(root: parent, split: .train)
        XCTAssertEqual(train.layout, .ade20k)
        XCTAssertTrue(train.reduceZeroLabel)
        XCTAssertEqual(train.ignoreIndex, 255)
        XCTAssertEqual(train.classCount, 150)
        XCTAssertEqual(train.root, parent + "/ADEChallengeData2016")
        XCTAssertEqual(train.samples.map { ($0.image as NSString).lastPathComponent }, ["ADE_train_00000001.jpg", "ADE_train_00000002.jpg"])
        XCTAssertEqual(train.samples[1].mask, parent + "/ADEChallengeData2016/annotations/training/ADE_train_00000002.png")
        let mask = try train.loadMask(for: train.samples[1])
        XCTAssertEqual(mask.width, 4)
        XCTAssertEqual(mask.labels, [255, 0, 1, 149, 255, 0, 0, 255])
        XCTAssertEqual(try ADE20K.load(root: parent + "/ADEChallengeData2016", split: .val).samples.count, 1)
        let checked = train.validate()
        XCTAssertEqual(checked.valid.samples, train.samples)
        XCTAssertEqual(checked.skipped, [])
    }

    func testADE20KBadPairsAreReported() throws {
        let parent = try makeADE()
        let base = "ade/ADEChallengeData2016"
        try writeImage("\(base)/images/training/ADE_train_00000003.jpg", width: 4, height: 4)  // no mask
        try writeImage("\(base)/images/training/ADE_train_00000004.jpg", width: 5, height: 4)
        try writeGreyMask("\(base)/annotations/training/ADE_train_00000004.png", width: 4, height: 5, labels: [UInt8](repeating: 1, count: 20))
        try writeImage("\(base)/images/training/ADE_train_00000005.jpg", width: 2, height: 1)
        try writeGreyMask("\(base)/annotations/training/ADE_train_00000005.png", width: 2, height: 1, labels: [1, 151])
        try writeImage("\(base)/images/training/ADE_train_00000006.jpg", width: 2, height: 1)
        try write("\(base)/annotations/training/ADE_train_00000006.png", "not a png")
        let train = try ADE20K.load(root: parent, split: .train)
        XCTAssertEqual(train.count, 6)
        var reports: [(Int, Int)] = []
        let checked = train.validate { reports.append(($0, $1)) }
        XCTAssertEqual(reports.last?.0, 6)
        XCTAssertEqual(checked.valid.samples.map { ($0.image as NSString).lastPathComponent }, ["ADE_train_00000001.jpg", "ADE_train_00000002.jpg"])
        let masks = temp + "/\(base)/annotations/training/"
        XCTAssertEqual(checked.skipped.map(\.path), [
            masks + "ADE_train_00000003.png", temp + "/\(base)/images/training/ADE_train_00000004.jpg",
            masks + "ADE_train_00000005.png", masks + "ADE_train_00000006.png",
        ])
        XCTAssertTrue(checked.skipped[0].reason.contains("no mask"), checked.skipped[0].reason)
        XCTAssertTrue(checked.skipped[1].reason.contains("mask is 4x5 but the image is 5x4"), checked.skipped[1].reason)
        XCTAssertTrue(checked.skipped[2].reason.contains("label 150, outside the 150 classes"), checked.skipped[2].reason)
        XCTAssertTrue(checked.skipped[3].reason.contains("PNG"), checked.skipped[3].reason)

        // The same problems as errors from check / loadMask, naming the files.
        assertThrows(try train.check(train.samples[2]), ["has no mask", masks + "ADE_train_00000003.png"])
        assertThrows(try train.check(train.samples[3]), ["mask \(masks)ADE_train_00000004.png is 4x5", "is 5x4"])
        assertThrows(try train.loadMask(for: train.samples[4]), [masks + "ADE_train_00000005.png", "label 150", "ignore index 255"])
    }

    func testADE20KMissingFolders() throws {
        assertThrows(try ADE20K.load(root: temp + "/none", split: .train), ["missing ADE20K images folder"])
        try writeImage("ade/ADEChallengeData2016/images/training/a.jpg", width: 2, height: 2)
        assertThrows(try ADE20K.load(root: temp + "/ade", split: .train), ["missing ADE20K annotations folder", "annotations/training"])
        assertThrows(try ADE20K.load(root: temp + "/ade", split: .val), ["images/validation"])
    }

    func makeVOC() throws -> String {
        let base = "voc/VOCdevkit/VOC2012"
        try writeImage("\(base)/JPEGImages/2007_000032.jpg", width: 3, height: 2)
        try writePaletteMask("\(base)/SegmentationClass/2007_000032.png", width: 3, height: 2, labels: [0, 1, 255, 15, 20, 0])
        try writeImage("\(base)/JPEGImages/2007_000033.jpg", width: 2, height: 2)
        try writePaletteMask("\(base)/SegmentationClass/2007_000033.png", width: 2, height: 2, labels: [0, 21, 0, 0])
        try writeImage("\(base)/JPEGImages/2007_000039.jpg", width: 2, height: 2)
        try writePaletteMask("\(base)/SegmentationClass/2007_000039.png", width: 2, height: 2, labels: [0, 12, 0, 255])
        try writeImage("\(base)/JPEGImages/2007_009999.jpg", width: 2, height: 2)  // not in any list
        try write("\(base)/ImageSets/Segmentation/train.txt", "2007_000032\n2007_000033\n2007_000404\n\n")
        try write("\(base)/ImageSets/Segmentation/val.txt", "2007_000039\r\n")
        return temp + "/voc"
    }

    func testPascalVOCSplitListsAndIgnore() throws {
        let root = try makeVOC()
        let train = try SegmentationDataset.load(root: root, split: .train)
        XCTAssertEqual(train.layout, .voc)
        XCTAssertFalse(train.reduceZeroLabel)
        XCTAssertEqual(train.classNames, PascalVOC.classNames)
        XCTAssertEqual(train.palette.count, 63)
        XCTAssertEqual(train.samples.map { ($0.image as NSString).lastPathComponent }, ["2007_000032.jpg", "2007_000033.jpg", "2007_000404.jpg"])
        XCTAssertEqual(try train.loadMask(for: train.samples[0]).labels, [0, 1, 255, 15, 20, 0], "255 borders stay the ignore index")
        let checked = train.validate()
        XCTAssertEqual(checked.valid.count, 1)
        XCTAssertEqual(checked.skipped.count, 2)
        XCTAssertTrue(checked.skipped[0].reason.contains("label 21, outside the 21 classes"), checked.skipped[0].reason)
        XCTAssertEqual(checked.skipped[1].path, root + "/VOCdevkit/VOC2012/JPEGImages/2007_000404.jpg")
        XCTAssertTrue(checked.skipped[1].reason.contains("does not exist"))

        let val = try PascalVOC.load(root: root + "/VOCdevkit/VOC2012", split: .val)
        XCTAssertEqual(val.samples.count, 1)
        XCTAssertEqual(try val.loadMask(for: val.samples[0]).labels, [0, 12, 0, 255])
        try FileManager.default.removeItem(atPath: root + "/VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt")
        assertThrows(try PascalVOC.load(root: root, split: .val), ["the data set has no val split", "ImageSets/Segmentation/val.txt"])
    }

    func testPlainFolderLayout() throws {
        try write("seg/classes.txt", "background\ncat\ndog\n\n")
        try writeImage("seg/images/train/a.png", width: 3, height: 2)
        try writePaletteMask("seg/masks/train/a.png", width: 3, height: 2, labels: [0, 1, 2, 255, 0, 0])
        try writeImage("seg/images/train/b.jpg", width: 2, height: 2)
        try writeGreyMask("seg/masks/train/b.png", width: 2, height: 2, labels: [2, 2, 1, 0])
        try writeImage("seg/images/val/c.jpeg", width: 2, height: 2)
        try writeGreyMask("seg/masks/val/c.png", width: 2, height: 2, labels: [3, 0, 0, 0])
        let train = try SegmentationDataset.load(root: temp + "/seg", split: .train)
        XCTAssertEqual(train.layout, .folder)
        XCTAssertEqual(train.classNames, ["background", "cat", "dog"])
        XCTAssertEqual(train.samples.map(\.mask), [temp + "/seg/masks/train/a.png", temp + "/seg/masks/train/b.png"])
        XCTAssertEqual(try train.loadMask(for: train.samples[0]).labels, [0, 1, 2, 255, 0, 0])
        XCTAssertEqual(train.validate().skipped, [])
        let val = try SegmentationFolder.load(root: temp + "/seg", split: .val)
        XCTAssertEqual(val.validate().skipped.map(\.reason), ["mask holds label 3, outside the 3 classes and not the ignore index 255"])
        let reduced = try SegmentationFolder.load(root: temp + "/seg", split: .val, reduceZeroLabel: true)
        XCTAssertEqual(try reduced.loadMask(for: reduced.samples[0]).labels, [2, 255, 255, 255])
        XCTAssertNotEqual(train.listingFingerprint(), val.listingFingerprint())
    }

    func testPlainFolderWithoutSplitsAndClassFileErrors() throws {
        try write("flat/classes.txt", "bg\nfg")
        try writeImage("flat/images/x.png", width: 2, height: 2)
        try writeGreyMask("flat/masks/x.png", width: 2, height: 2, labels: [0, 1, 1, 0])
        XCTAssertEqual(try SegmentationFolder.load(root: temp + "/flat", split: .train).count, 1)
        assertThrows(try SegmentationFolder.load(root: temp + "/flat", split: .val), ["the data set has no val split", "no split folders"])

        try write("flat/classes.txt", "bg\n\nfg\n")
        assertThrows(try SegmentationFolder.load(root: temp + "/flat", split: .train), [temp + "/flat/classes.txt", "line 2 is empty"])
        try write("flat/classes.txt", "bg\n")
        assertThrows(try SegmentationFolder.load(root: temp + "/flat", split: .train), ["at least 2"])
        try write("flat/classes.txt", "bg\nbg\n")
        assertThrows(try SegmentationFolder.load(root: temp + "/flat", split: .train), ["'bg' is listed twice"])
        try FileManager.default.removeItem(atPath: temp + "/flat/classes.txt")
        assertThrows(try SegmentationFolder.load(root: temp + "/flat", split: .train), [temp + "/flat/classes.txt", "no such file"])
        assertThrows(try SegmentationFolder.load(root: temp + "/nothing", split: .train), ["missing images folder", temp + "/nothing/images"])
    }
}
