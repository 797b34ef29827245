import Backbone
import Foundation
import Images
import Support
import TestSupport
import XCTest

/// Class 4: the pixel limit applies to declared sizes before any allocation, decoding +
/// preprocessing stays within a stated memory bound, a bad image is skipped and the run goes on,
/// names that are not UTF-8 work, and unsupported formats are reported, never silently dropped.
final class ImageBudgetTests: HostileTestCase {
    let bomb = CLI.repoRoot.appendingPathComponent("Tests/HostileInputTests/Fixtures/declares-13000x13000.jpg").path

    func testTheLimitIsCheckedOnTheHeaderBeforeAnyAllocation() throws {
        // A 211-byte arithmetic-coded JPEG that really decodes to 13000 x 13000 (169 M pixels).
        let file = try ImageDecoder.open(bomb)
        XCTAssertEqual(file.count, 211)
        let info = try ImageDecoder.info(of: file)
        XCTAssertEqual([info.width, info.height], [13000, 13000])
        assertRefused(try ImageDecoder.decode(file: file, maxPixels: 1_000_000), ["declares 13000x13000 pixels", "over the limit of 1000000"], within: 0.1)
        assertRefused(try Preprocessing().prepare(file: file, maxPixels: 1_000_000), ["declares 13000x13000"], within: 0.1)
        // Forged PNG and JPEG headers declaring 2^31-1 sides are refused the same way.
        var png = try Data(contentsOf: URL(fileURLWithPath: CLI.fixtureImages + "/rgb_small_40x30.png"))
        png.replaceSubrange(16..<24, with: [0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF])
        assertRefused(try ImageDecoder.decode(data: png, path: "forged.png"), ["corrupt PNG data"])  // the CRC catches the edit
        var jpeg = try Data(contentsOf: URL(fileURLWithPath: CLI.fixtureImages + "/rgb_300x200.jpg"))
        if let sof = (0..<(jpeg.count - 9)).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) {
            jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0x4E, 0x20, 0x4E, 0x20])
        }
        assertRefused(try ImageDecoder.decode(data: jpeg, path: "forged.jpg", maxPixels: 1_000_000), ["20000x20000", "over the limit"])
    }

    func testDecodingTheBombStaysWithinTheStatedBound() throws {
        // Extracting features of the 169 M-pixel image at the default limit: peak memory of the
        // whole process stays near that of a small image (the decode streams rows into the
        // resampler: 13000 x 224 x 12 bytes), where decoding it whole would take 4.7 GB.
        let folder = temp + "/bomb"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: bomb, toPath: folder + "/bomb.jpg")
        let result = try CLI.shell("""
            /usr/bin/time -f 'peak-rss-kb %M' "$DINOPROBE" extract --model '\(CLI.tinyModel)' --images '\(folder)' --out '\(temp)/f.safetensors'
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        let peak = try XCTUnwrap(CLI.peakRSSMegabytes(result), result.stderr)
        print("peak RSS extracting a 13000x13000 image: \(Int(peak)) MB")
        XCTAssertLessThan(peak, 600, "decoding the 169 M-pixel image took \(peak) MB")
    }

    func testNativePresetBoundsTokens() throws {
        let strip = try RGBImage(width: 4, height: 400, pixels: [UInt8](repeating: 90, count: 4 * 400 * 3))
        assertRefused(try Preprocessing(preset: .native, size: 64).apply(strip), ["more than 4x those of a 64x64 input"])
    }

    func testUnreadableAndUnsupportedImagesAreSkippedAndListedAndTheBatchGoesOn() throws {
        let folder = temp + "/mixed"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["rgb_300x200.jpg", "grey_97x131.jpg", "palette_100x140.png"] {
            try FileManager.default.copyItem(atPath: CLI.fixtureImages + "/" + name, toPath: folder + "/" + name)
        }
        try write("mixed/photo.webp", Data("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8))
        try write("mixed/scan.tiff", Data([0x49, 0x49, 0x2A, 0x00, 1, 2, 3, 4]))
        try write("mixed/anim.gif", Data("GIF89a....".utf8))
        try write("mixed/old.bmp", Data("BM......".utf8))
        try write("mixed/phone.heic", Data([0, 0, 0, 24] + Array("ftypheic".utf8)))
        try write("mixed/truncated.jpg", try Data(contentsOf: URL(fileURLWithPath: CLI.fixtureImages + "/rgb_300x200.jpg")).prefix(900))
        try write("mixed/notes.txt", "not an image, not listed")
        let out = temp + "/f.safetensors"
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", folder, "--out", out, "--batch-size", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("3 images x 48 features"), r.stdout)
        for (name, reason) in [("photo.webp", "WebP images are not supported"), ("scan.tiff", "TIFF images are not supported"),
                               ("anim.gif", "GIF images are not supported"), ("old.bmp", "BMP images are not supported"),
                               ("phone.heic", "HEIF/AVIF images are not supported"), ("truncated.jpg", "truncated")] {
            XCTAssertTrue(r.stderr.contains("skipped \(folder)/\(name)"), "\(name) not reported: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(reason), "\(reason) missing: \(r.stderr)")
        }
        XCTAssertFalse(r.stderr.contains("notes.txt"))
    }

    func testNamesThatAreNotUTF8Work() throws {
        // A file and a folder named with Latin-1 bytes: listed, read, and shown as \xE9.
        let folder = temp + "/bytes"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let raw = Array(folder.utf8) + [0x2F] + Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)
        let data = try Data(contentsOf: URL(fileURLWithPath: CLI.fixtureImages + "/rgb_300x200.jpg"))
        let fd = (raw + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let listed = try FileSystem.list(folder)
        XCTAssertEqual(listed.count, 1)
        XCTAssertEqual(PathCodec.bytes(of: listed[0]), Array("caf".utf8) + [0xE9] + Array(".jpg".utf8))
        XCTAssertEqual(try ImageDecoder.decode(path: folder + "/" + listed[0]).width, 300)
        let out = temp + "/f.safetensors"
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", folder, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 images"), r.stdout)
        // The same file named on the command line as raw bytes.
        let named = try CLI.shell("\"$DINOPROBE\" extract --model '\(CLI.tinyModel)' --images $'\(folder)/caf\\xe9.jpg' --out '\(temp)/g.safetensors'")
        XCTAssertEqual(named.status, 0, named.stderr)
    }
}
