import Foundation
import Images
import Support
import XCTest

/// Image headers read by libjpeg and libpng themselves: sizes as the decoders return them (EXIF
/// applied), formats, progressive and interlaced files, without decoding pixels.
final class ImageHeaderTests: XCTestCase {
    func testHeadersAgreeWithFullDecodes() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.root.appendingPathComponent("images").path).sorted()
        var checked = 0
        for name in names where name.hasSuffix(".jpg") || name.hasSuffix(".png") {
            let info = try ImageDecoder.info(path: Fixtures.image(name))
            let image = try ImageDecoder.decode(path: Fixtures.image(name))
            XCTAssertEqual([info.width, info.height], [image.width, image.height], name)
            XCTAssertEqual(info.format, name.hasSuffix(".jpg") ? .jpeg : .png)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
        let rotated = try ImageDecoder.info(path: Fixtures.image("exif_rot6_160x90.jpg"))
        XCTAssertEqual(rotated.orientation.value, 6)
        XCTAssertEqual([rotated.storedWidth, rotated.storedHeight, rotated.width, rotated.height], [160, 90, 90, 160])
    }

    func testProgressiveAndInterlacedFilesAreMarked() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus/Images")
        let progressive = try ImageDecoder.info(path: corpus.appendingPathComponent("progressive.jpg").path)
        XCTAssertTrue(progressive.multipass)
        let interlaced = try ImageDecoder.info(path: corpus.appendingPathComponent("interlaced.png").path)
        XCTAssertTrue(interlaced.multipass)
        XCTAssertEqual([interlaced.width, interlaced.height], [28, 20])
        let baseline = try ImageDecoder.info(path: Fixtures.image("rgb_300x200.jpg"))
        XCTAssertFalse(baseline.multipass)
        // Both decode, and the interlaced one streams into the resampler like any other.
        let decoded = try ImageDecoder.decode(path: corpus.appendingPathComponent("interlaced.png").path)
        let file = try ImageDecoder.open(corpus.appendingPathComponent("interlaced.png").path)
        let plan = ResamplePlan(outputWidth: 16, outputHeight: 12)
        XCTAssertEqual(try ImageDecoder.decodeResampled(file: file, info: interlaced, plan: plan), try ImageResampler.resample(decoded, plan: plan))
    }

    func testNonImagesAreNamed() {
        for (bytes, reason) in [(Data("GIF89a......".utf8), "GIF images are not supported"), (Data("hello".utf8), "neither JPEG nor PNG"),
                                (Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 2]), "corrupt JPEG")] {
            XCTAssertThrowsError(try ImageDecoder.info(of: MappedFile(bytes: bytes, path: "x"))) { XCTAssertTrue("\($0)".contains(reason), "\($0)") }
        }
    }
}
