import Foundation
import Images
import XCTest

/// 16-bit greyscale PNGs: values read untouched from a file Pillow wrote, written back and read
/// again, and every other kind of PNG refused with its reason.
final class GreyPNG16Tests: XCTestCase {
    func testPillowsSixteenBitPNGDecodesToItsValues() throws {
        // scripts/make_fixtures.py: Image.fromarray(uint16 ramp i * 128, 32x16).save(...)
        let image = try GreyPNG16.decode(path: Fixtures.image("grey16_32x16.png"))
        XCTAssertEqual([image.width, image.height], [32, 16])
        XCTAssertEqual(image.samples, (0..<512).map { UInt16($0 * 128) })
        // scripts/make_depth_metric_fixtures.py: (i * 157) % 65536 with 0, 1, 255, 65535 first.
        let depth = try GreyPNG16.decode(path: Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TrainingTests/Fixtures/depth_mm_23x17.png").path)
        var expected = (0..<(23 * 17)).map { UInt16($0 * 157 % 65536) }
        expected.replaceSubrange(0..<4, with: [0, 1, 255, 65535])
        XCTAssertEqual([depth.width, depth.height], [23, 17])
        XCTAssertEqual(depth.samples, expected)
    }

    func testInterlacedFileGivesTheSameSamples() throws {
        // scripts/make_fuzz_corpus.py: the same 13x11 depth map, Pillow's PNG and an Adam7 one.
        let corpus = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus/PNG16")
        let plain = try GreyPNG16.decode(path: corpus.appendingPathComponent("depth.png").path)
        XCTAssertEqual([plain.width, plain.height], [13, 11])
        XCTAssertEqual(Array(plain.samples.prefix(3)), [0, 1, 65535])
        XCTAssertEqual(try GreyPNG16.decode(path: corpus.appendingPathComponent("interlaced.png").path), plain)
    }

    func testWriteThenReadRoundTrips() throws {
        let image = try Grey16Image(width: 7, height: 3, samples: (0..<21).map { UInt16(($0 * 3119) % 65536) })
        let back = try GreyPNG16.decode(data: try GreyPNG16.encode(image), path: "memory")
        XCTAssertEqual(back, image)
        let path = NSTemporaryDirectory() + "grey16-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try GreyPNG16.write(image, to: path)
        XCTAssertEqual(try GreyPNG16.decode(path: path), image)
        // The 8-bit decoder still reads it (scaled to 8 bits).
        XCTAssertEqual(try ImageDecoder.decode(path: path).width, 7)
    }

    func testOtherPNGsAreRefusedWithTheirReason() throws {
        let rgb = try PNGEncoder.encode(pixels: [UInt8](repeating: 9, count: 12), width: 2, height: 2, channels: 3)
        let grey8 = try PNGEncoder.encode(pixels: [1, 2, 3, 4], width: 2, height: 2, channels: 1)
        let palette = try PNGEncoder.encode(pixels: [0, 1, 1, 0], width: 2, height: 2, channels: 1, palette: [0, 0, 0, 255, 255, 255])
        let rgba = try PNGEncoder.encode(pixels: [UInt8](repeating: 9, count: 16), width: 2, height: 2, channels: 4)
        for (data, words) in [(rgb, "RGB"), (grey8, "8-bit"), (palette, "palette"), (rgba, "alpha")] {
            XCTAssertThrowsError(try GreyPNG16.decode(data: data, path: "x.png")) { error in
                XCTAssertTrue("\(error)".contains(words), "\(error)")
            }
        }
        XCTAssertThrowsError(try GreyPNG16.decode(data: Data([0xFF, 0xD8, 0xFF, 0]), path: "x.jpg"))
        XCTAssertThrowsError(try GreyPNG16.decode(data: Data(), path: "empty.png"))
    }

    func testPixelLimitIsCheckedFromTheHeader() throws {
        let image = try Grey16Image(width: 40, height: 30, samples: [UInt16](repeating: 500, count: 1200))
        let data = try GreyPNG16.encode(image)
        XCTAssertThrowsError(try GreyPNG16.decode(data: data, path: "big.png", maxPixels: 1199)) { error in
            XCTAssertTrue("\(error)".contains("over the limit"), "\(error)")
        }
        XCTAssertEqual(try GreyPNG16.decode(data: data, path: "ok.png", maxPixels: 1200), image)
        XCTAssertThrowsError(try Grey16Image(width: 2, height: 2, samples: [1, 2, 3]))
    }
}
