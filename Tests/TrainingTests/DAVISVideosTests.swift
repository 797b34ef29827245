import Datasets
import Foundation
import Images
import XCTest
@testable import Training

/// The DAVIS 2017 reader on a generated layout: videos from the split list or --videos, frames in
/// order, every annotation present, the first annotation's palette kept for the outputs.
final class DAVISVideosTests: XCTestCase {
    func testReadsTheGeneratedLayout() throws {
        let root = NSTemporaryDirectory() + "davis-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let names = try SyntheticData.makeVideoFolder(root: root, videos: 3, frames: 4, width: 40, height: 24, seed: 2)
        let all = try DAVISVideos.read(root: root, split: "val")
        XCTAssertEqual(all.videos.map(\.name), names)
        XCTAssertTrue(all.skipped.isEmpty)
        let v = all.videos[1]
        XCTAssertEqual(v.stems, ["00000", "00001", "00002", "00003"])
        XCTAssertTrue(v.isAnnotated)
        XCTAssertEqual(v.palette, Palette.voc())
        XCTAssertEqual(try DAVISVideos.read(root: root, split: "val", only: ["video-02"]).videos.map(\.name), ["video-02"])
        let first = try MaskDecoder.decode(path: v.annotations[0])
        XCTAssertEqual(Set(first.labels), [0, 1, 2], "video 1 has two objects")
        XCTAssertThrowsError(try DAVISVideos.read(root: root, split: "train")) { XCTAssertTrue("\($0)".contains("train.txt"), "\($0)") }
    }
}

extension DAVISVideosTests {
    /// A video the list (or --videos) names twice is read and scored once; the repeat is skipped
    /// with the line it first appeared on, so the mean over videos counts it once.
    func testAVideoListedTwiceIsScoredOnce() throws {
        let root = NSTemporaryDirectory() + "davis-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let names = try SyntheticData.makeVideoFolder(root: root, videos: 2, frames: 3, width: 32, height: 16, seed: 3)
        let list = root + "/ImageSets/2017/val.txt"
        try (names + [names[0]]).joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let read = try DAVISVideos.read(root: root, split: "val")
        XCTAssertEqual(read.videos.map(\.name), names)
        XCTAssertEqual(read.skipped.map(\.index), [2])
        XCTAssertTrue(read.skipped.first?.reason.contains("line 1") == true, "\(read.skipped)")
        let only = try DAVISVideos.read(root: root, split: "val", only: [names[1], names[1]])
        XCTAssertEqual(only.videos.map(\.name), [names[1]])
        XCTAssertEqual(only.skipped.count, 1)
    }
}
