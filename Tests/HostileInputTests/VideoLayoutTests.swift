import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support
import TestSupport
import XCTest
@testable import Training

/// The DAVIS 2017 reader on broken layouts: a palette that disagrees with the first frame's, a
/// gap in the frame numbers, a first frame without annotation, partial annotations and list
/// entries naming paths outside the root. Each video is skipped by name with the reason; an
/// entry outside the root refuses the list. Hostile palette chunks are refused, not trusted.
final class VideoLayoutTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "davis-hostile-" + UUID().uuidString
        try SyntheticData.makeVideoFolder(root: root, videos: 2, frames: 5, width: 32, height: 24, seed: 1)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func read(_ names: [String]? = nil) throws -> (videos: [VideoSequence], skipped: [SkippedInput]) {
        try DAVISVideos.read(root: root, split: "val", only: names)
    }

    func testPaletteMismatchSkipsTheVideo() throws {
        var palette = Palette.voc()
        palette[3] = 7  // object 1's red
        try PNGEncoder.writeIndexed([UInt8](repeating: 1, count: 32 * 24), width: 32, height: 24, palette: palette,
                                    to: root + "/Annotations/480p/video-00/00002.png")
        let r = try read()
        XCTAssertEqual(r.videos.map(\.name), ["video-01"])
        XCTAssertEqual(r.skipped.first?.path, "video-00")
        XCTAssertTrue(r.skipped.first?.reason.contains("00002.png") ?? false, "\(r.skipped)")
        XCTAssertTrue(r.skipped.first?.reason.contains("palette gives index 1") ?? false, "\(r.skipped)")
    }

    func testMissingFramesAndAnnotationsSkipTheVideo() throws {
        try FileManager.default.removeItem(atPath: root + "/JPEGImages/480p/video-00/00002.jpg")
        try FileManager.default.removeItem(atPath: root + "/Annotations/480p/video-01/00000.png")
        let r = try read()
        XCTAssertEqual(r.videos.count, 0)
        XCTAssertTrue(r.skipped[0].reason.contains("missing frames: 1 is followed by 3"), r.skipped[0].reason)
        XCTAssertTrue(r.skipped[1].reason.contains("first frame has no annotation"), r.skipped[1].reason)
    }

    func testPartialAnnotationsSkipButFirstOnlyPropagates() throws {
        try FileManager.default.removeItem(atPath: root + "/Annotations/480p/video-00/00003.png")
        for t in 1..<5 { try FileManager.default.removeItem(atPath: root + "/Annotations/480p/video-01/0000\(t).png") }
        let r = try read()
        XCTAssertTrue(r.skipped.first?.reason.contains("annotations missing for frames 00003") ?? false, "\(r.skipped)")
        XCTAssertEqual(r.videos.map(\.name), ["video-01"])
        XCTAssertFalse(r.videos[0].isAnnotated, "propagated, not scored")
    }

    func testEntriesOutsideTheRootRefuseTheList() throws {
        try Data("video-00\n../../etc\n".utf8).write(to: URL(fileURLWithPath: root + "/ImageSets/2017/val.txt"))
        XCTAssertThrowsError(try read()) { XCTAssertTrue("\($0)".contains("climbs out of the folder"), "\($0)") }
        XCTAssertThrowsError(try read(["/etc"])) { XCTAssertTrue("\($0)".contains("absolute path"), "\($0)") }
        try FileManager.default.createSymbolicLink(atPath: root + "/JPEGImages/480p/escape", withDestinationPath: NSTemporaryDirectory())
        XCTAssertThrowsError(try read(["escape"])) { XCTAssertTrue("\($0)".contains("symbolic link"), "\($0)") }
        XCTAssertThrowsError(try DAVISVideos.read(root: root, split: "../val")) { XCTAssertTrue("\($0)".contains("climbs out"), "\($0)") }
        XCTAssertEqual(try read(["video-01", "metrics.json"]).skipped.map(\.path), ["metrics.json"])
    }

    func testHostilePaletteChunks() throws {
        let good = try PNGEncoder.encode(pixels: [0, 1, 0, 1], width: 2, height: 2, channels: 1, palette: Palette.voc(count: 2))
        let path = root + "/p.png"
        try good.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try MaskDecoder.palette(path: path), Palette.voc(count: 2))
        // Find PLTE and make its length huge, then not a multiple of 3.
        let bytes = [UInt8](good), at = try XCTUnwrap((8..<(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual("PLTE".utf8) }) - 4
        for (length, message) in [(UInt32(0x7FFF_FFFF), "runs past the end"), (UInt32(4), "1 to 256 RGB colours")] {
            var bad = bytes
            bad.replaceSubrange(at..<(at + 4), with: withUnsafeBytes(of: length.bigEndian, Array.init))
            try Data(bad).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try MaskDecoder.palette(path: path)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
        try Data(bytes.prefix(20)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try MaskDecoder.palette(path: path)) { XCTAssertTrue("\($0)".contains("IHDR runs past the end"), "\($0)") }
        try Data("GIF89a".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try MaskDecoder.palette(path: path))
    }

    /// A video-token cache entry in the current format whose patch grid is not the one this run
    /// computes for the frames (the same number of cells, laid out otherwise) is removed and
    /// extracted again, not propagated on another grid.
    func testAVideoTokenEntryOfAnotherGridIsExtractedAgain() throws {
        let model = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel))
        var settings = PropagationSettings()
        settings.scaleSize = 64
        let run = try PropagationRun(model: model, settings: settings, cacheFolder: root + "/cache")
        let video = try XCTUnwrap(try read(["video-00"]).videos.first)
        let fresh = try run.videoTokens(video, width: 32, height: 24, onExtracted: {})
        XCTAssertEqual([fresh.gridHeight, fresh.gridWidth], [4, 4])
        let dim = model.config.hiddenSize
        let writer = try FeaturesFile.Writer(destination: run.entryPath(video, in: root + "/cache"), dim: dim, layers: 1, registers: 0,
                                             patchTokens: true, dtype: .f32, pooled: false)
        for frame in video.frames { try writer.append(path: frame, patchTokens: ([Float](repeating: 1, count: 16 * dim)[...], 2, 8)) }
        try writer.finish(source: FeatureSource(backboneID: "tiny", backboneFingerprint: model.fingerprint, preprocessing: .init()), skipped: [])
        var extracted = 0
        let again = try run.videoTokens(video, width: 32, height: 24, onExtracted: { extracted += 1 })
        XCTAssertEqual([again.gridHeight, again.gridWidth, extracted], [4, 4, video.frames.count])
        XCTAssertEqual(try again.frame(1), try fresh.frame(1))
    }
}

extension VideoLayoutTests {
    /// A frame numbered Int.max followed by another (sorted by name, "99" comes after it): the gap
    /// check must not overflow (it trapped, killing the whole run).
    func testAFrameNumberedAtIntMaxIsRefusedNotATrap() throws {
        let frames = root + "/JPEGImages/480p/video-00"
        try FileManager.default.moveItem(atPath: frames + "/00000.jpg", toPath: frames + "/\(Int.max).jpg")
        try FileManager.default.moveItem(atPath: frames + "/00001.jpg", toPath: frames + "/99.jpg")
        for t in 2..<5 { try FileManager.default.removeItem(atPath: frames + "/0000\(t).jpg") }
        let r = try read(["video-00", "video-01"])
        XCTAssertEqual(r.videos.map(\.name), ["video-01"])
        XCTAssertTrue(r.skipped.first?.reason.contains("missing frames: \(Int.max) is followed by 99") ?? false, "\(r.skipped)")
    }
}

extension VideoLayoutTests {
    /// A video named like the run folder's own hidden files (`.staging`) is skipped when read:
    /// its output folder could not be published, and the whole run failed at its end.
    func testAVideoNamedLikeTheRunFoldersOwnFilesIsSkipped() throws {
        for folder in ["JPEGImages", "Annotations"] {
            try FileManager.default.moveItem(atPath: root + "/\(folder)/480p/video-00", toPath: root + "/\(folder)/480p/.staging")
        }
        let r = try read([".staging", "video-01"])
        XCTAssertEqual(r.videos.map(\.name), ["video-01"])
        XCTAssertEqual(r.skipped.map(\.path), [".staging"])
    }
}
