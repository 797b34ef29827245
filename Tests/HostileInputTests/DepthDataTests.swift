import Datasets
import Foundation
import Images
import Support
import TestSupport
import Training
import XCTest

/// The depth readers (issue 29): list entries outside the root or naming missing files refuse
/// the list by name; depth PNGs that are 8-bit, RGB, of another size than their image or hold no
/// depth are skipped with their reason; bad scales and ranges are refused before any reading.
final class DepthDataTests: HostileTestCase {
    let image = try! JPEGEncoder.encode(RGBImage(width: 8, height: 6, pixels: [UInt8](repeating: 90, count: 144)))

    func depthPNG(width: Int = 8, height: Int = 6, value: UInt16 = 1500) throws -> Data {
        try GreyPNG16.encode(Grey16Image(width: width, height: height, samples: [UInt16](repeating: value, count: width * height)))
    }

    /// An NYU layout under `temp/nyu` whose train list is `list`, with pairs a and b.
    func nyuLayout(list: String) throws -> String {
        for id in ["a", "b"] {
            try write("nyu/room/rgb_\(id).jpg", image)
            try write("nyu/room/depth_\(id).png", try depthPNG())
        }
        try write("outside/secret.png", try depthPNG())
        try write("nyu/nyu_train.txt", list)
        return temp + "/nyu"
    }

    func testNYUListIsReadSortedWithSlashesStripped() throws {
        let root = try nyuLayout(list: "/room/rgb_b.jpg /room/depth_b.png 518.8579\nroom/rgb_a.jpg room/depth_a.png 518.8579\n\n")
        let data = try DepthDataset.load(root: root, split: .train)
        XCTAssertEqual(data.layout, .nyu)
        // Meta sorts the raw lines: "/room/..." before "room/...".
        XCTAssertEqual(data.samples.map { ($0.image as NSString).lastPathComponent }, ["rgb_b.jpg", "rgb_a.jpg"])
        XCTAssertEqual(data.validate().skipped, [])
        XCTAssertEqual(try data.loadDepth(data.samples[0]).values.first, 1.5)
        let fingerprint = data.listingFingerprint()
        XCTAssertEqual(fingerprint.count, 16)
        try write("nyu/room/depth_a.png", try depthPNG(value: 1600))
        XCTAssertNotEqual(try DepthDataset.load(root: root, split: .train).listingFingerprint(), fingerprint)
    }

    func testNYUListRefusesEscapesMissingFilesAndBadLines() throws {
        for (line, fragments) in [("../outside/secret.png room/depth_a.png 1", ["nyu_train.txt line 1", "'..'"]),
                                  ("room/rgb_a.jpg ../../outside/secret.png 1", ["line 1", "'..'"]),
                                  ("room/rgb_zz.jpg room/depth_a.png 1", ["rgb_zz.jpg", "does not exist"]),
                                  ("room/rgb_a.jpg room/depth_zz.png 1", ["depth_zz.png", "no such file", "line 1"]),
                                  ("room/rgb_a.jpg room/depth_a.png", ["line 1 has 2 fields"])] {
            let root = try nyuLayout(list: line + "\n")
            _ = assertRefused(try DepthDataset.load(root: root, split: .train), fragments)
        }
        try FileManager.default.createSymbolicLink(atPath: temp + "/nyu/room/link.png", withDestinationPath: temp + "/outside/secret.png")
        try write("nyu/nyu_train.txt", "room/rgb_a.jpg room/link.png 1\n")
        _ = assertRefused(try DepthDataset.load(root: temp + "/nyu", split: .train), ["symbolic link", "link.png"])
    }

    func testBadDepthMapsAreSkippedWithTheirReason() throws {
        let eight = try PNGEncoder.encode(pixels: [UInt8](repeating: 7, count: 48), width: 8, height: 6, channels: 1)
        let rgb = try PNGEncoder.encode(pixels: [UInt8](repeating: 7, count: 144), width: 8, height: 6, channels: 3)
        let cases: [(String, Data, String)] = [("good", try depthPNG(), ""), ("eight", eight, "8-bit"), ("rgb", rgb, "RGB PNG"),
                                               ("size", try depthPNG(width: 6, height: 8), "6x8 but its image is 8x6"),
                                               ("zero", try depthPNG(value: 0), "holds no depth"), ("junk", Data("not a png".utf8), "16-bit")]
        for (name, bytes, _) in cases {
            try write("folder/images/train/\(name).jpg", image)
            try write("folder/depth/train/\(name).png", bytes)
        }
        try write("folder/images/train/nodepth.jpg", image)
        let (valid, skipped) = try DepthDataset.load(root: temp + "/folder", split: .train, depthScale: 256).validate()
        XCTAssertEqual(valid.layout, .folder)
        XCTAssertEqual(valid.samples.map { ($0.image as NSString).lastPathComponent }, ["good.jpg"])
        XCTAssertEqual(skipped.count, cases.count)
        for (name, _, reason) in cases.dropFirst() {
            let entry = skipped.first { $0.path.hasSuffix("/\(name).png") }
            XCTAssertTrue(entry?.reason.contains(reason) == true, "\(name): \(String(describing: entry))")
        }
        XCTAssertTrue(skipped.contains { $0.path.hasSuffix("nodepth.png") })
    }

    func testASplitWithoutAUsablePairIsRefusedOnceItsBadPairsAreHandedOver() throws {
        try write("folder/images/val/a.jpg", image)
        try write("folder/depth/val/a.png", Data("not a png".utf8))
        var handed: [SkippedInput] = []
        let data = try DepthDataset.load(root: temp + "/folder", split: .val)
        XCTAssertThrowsError(try data.usable(.val, of: "typed/root", reporter: SilentReporter()) { handed = $0 }) {
            XCTAssertEqual("\($0)", "no usable image/depth pair in the val split of typed/root")
        }
        XCTAssertEqual(handed.map { ($0.path as NSString).lastPathComponent }, ["a.png"])
    }

    func testScalesAndRangesAreRefusedBeforeReading() throws {
        for scale: Float in [0, -1000, .nan, .infinity] {
            _ = assertRefused(try DepthDataset.load(root: temp + "/does-not-exist", split: .train, depthScale: scale), ["depth scale"])
        }
        _ = assertRefused(try DepthEvaluation(crop: .full, minDepth: 10, maxDepth: 10), ["min < max"])
        for arguments in [["--depth-scale", "-5"], ["--min-depth", "5", "--max-depth", "1"]] {
            let result = try CLI.run(["eval-depth", "--pred", temp + "/none", "--gt", temp + "/none"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("cannot list"), "refused before reading: \(result.stderr)")
        }
    }
}
