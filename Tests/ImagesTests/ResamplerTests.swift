import Foundation
import Images
import SafeTensors
import TestSupport
import XCTest

/// The streaming resampler against PyTorch 2.x's antialiased `interpolate` (bilinear and bicubic,
/// whole images, crops, the eval preset's centre crop), on the committed fixture made by
/// scripts/make_resample_fixtures.py.
final class ResamplerTests: XCTestCase {
    func testMatchesTorchInterpolateBitForBit() throws {
        let fixture = try SafeTensorsFile(path: Fixtures.root.appendingPathComponent("resample.safetensors").path)
        var cases = 0
        var worst: Float = 0
        for name in fixture.names where name.hasPrefix("bilinear.") || name.hasPrefix("bicubic.") {
            // <mode>.<id>.<oh>x<ow>.<top>_<left>_<ch>x<cw>
            let parts = name.split(separator: ".")
            XCTAssertEqual(parts.count, 4, name)
            let id = String(parts[1])
            let size = parts[2].split(separator: "x").compactMap { Int($0) }
            let crop = parts[3].split(separator: "_")
            let (top, left) = (Int(crop[0])!, Int(crop[1])!)
            let cropSize = crop[2].split(separator: "x").compactMap { Int($0) }
            let input = try fixture.tensors["input.\(id)"].map { ($0, try fixture.ints("input.\(id)")) }
            let (info, bytes) = try XCTUnwrap(input, id)
            let image = try RGBImage(width: info.shape[1], height: info.shape[0], pixels: bytes.map { UInt8($0) })
            let plan = ResamplePlan(outputWidth: size[1], outputHeight: size[0], crop: (left, top, cropSize[1], cropSize[0]),
                                    bicubic: parts[0] == "bicubic")
            let got = try ImageResampler.resample(image, plan: plan)
            let expected = try fixture.floats(name)
            XCTAssertEqual(got.count, expected.count, name)
            let diff = maxAbsDiff(got, expected)
            XCTAssertEqual(diff, 0, "\(name): max abs diff \(diff)")
            worst = max(worst, diff)
            cases += 1
        }
        XCTAssertGreaterThanOrEqual(cases, 16)
        print("resampler vs torch interpolate(antialias=True): \(cases) cases, max abs diff \(worst)")
    }

    func testStreamingDecodeEqualsDecodeThenResample() throws {
        // The one-pass path (rows resized as they are decoded, EXIF applied on the fly) gives the
        // same floats as decoding whole and resizing, for every orientation and with a mirror.
        for name in ["rgb_300x200.jpg", "exif_rot6_160x90.jpg", "exif_rot3_70x50.png", "palette_100x140.png", "cmyk_150x120.jpg"] {
            let file = try ImageDecoder.open(Fixtures.image(name))
            let info = try ImageDecoder.info(of: file)
            let whole = try ImageDecoder.decode(file: file)
            XCTAssertEqual([info.width, info.height], [whole.width, whole.height], name)
            for plan in [ResamplePlan(outputWidth: 48, outputHeight: 40),
                         ResamplePlan(outputWidth: 64, outputHeight: 70, crop: (5, 9, 50, 41), bicubic: true, mirrored: true)] {
                let streamed = try ImageDecoder.decodeResampled(file: file, info: info, plan: plan)
                XCTAssertEqual(streamed, try ImageResampler.resample(whole, plan: plan), name)
            }
        }
    }
}
