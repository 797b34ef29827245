import Foundation
import SafeTensors
import TestSupport
import XCTest
import Images

/// Decoding and preprocessing against Pillow + `DINOv3ViTImageProcessor` on committed images.
final class PreprocessingTests: XCTestCase {
    let parityImages = ["rgb_300x200.jpg", "grey_97x131.jpg", "cmyk_150x120.jpg", "rgb_180x100_420.jpg",
                        "rgba_120x90.png", "palette_100x140.png", "grey_alpha_64x48.png", "rgb_small_40x30.png",
                        "exif_rot6_160x90.jpg", "exif_rot3_70x50.png"]

    func testDecodedPixelsEqualPillowConvertRGB() throws {
        let fixture = try Fixtures.preprocess()
        for name in parityImages {
            let image = try ImageDecoder.decode(path: Fixtures.image(name))
            let info = try XCTUnwrap(fixture.tensors["\(name)@rgb"], name)
            XCTAssertEqual([image.height, image.width, 3], info.shape, "\(name): size")
            let expected = try fixture.ints("\(name)@rgb")
            let mismatched = zip(image.pixels, expected).filter { Int64($0.0) != $0.1 }.count
            XCTAssertEqual(mismatched, 0, "\(name): \(mismatched) samples differ from Pillow")
        }
    }

    func testPixelValuesMatchTransformersProcessor() throws {
        let fixture = try Fixtures.preprocess()
        var worst: Float = 0
        defer { print("preprocessing parity: max abs diff \(worst) over \(parityImages.count) images") }
        for name in parityImages {
            for size in name == "rgb_300x200.jpg" ? [224, 64] : [64] {
                let image = try ImageDecoder.decode(path: Fixtures.image(name))
                let result = try Preprocessing(preset: .hf, size: size).apply(image)
                XCTAssertEqual(result.height, size)
                XCTAssertEqual(result.width, size)
                let diff = maxAbsDiff(result.pixels, try fixture.floats("\(name)@\(size)"))
                XCTAssertLessThanOrEqual(diff, 1e-5, "\(name)@\(size): max abs diff \(diff)")
                worst = max(worst, diff)
            }
        }
    }

    func testExifRotationSwapsSides() throws {
        let rotated = try ImageDecoder.decode(path: Fixtures.image("exif_rot6_160x90.jpg"))
        XCTAssertEqual([rotated.width, rotated.height], [90, 160])
    }

    func testSixteenBitPNGIsScaledNotClipped() throws {
        // Ramp v = i * 128 for i in 0..<512: scaled to round(v * 255 / 65535).
        let image = try ImageDecoder.decode(path: Fixtures.image("grey16_32x16.png"))
        XCTAssertEqual([image.width, image.height], [32, 16])
        for i in [0, 1, 100, 511] {
            let v = Double(i * 128)
            XCTAssertEqual(Int(image.pixels[3 * i]), Int((v * 255 / 65535).rounded()), "sample \(i)")
            XCTAssertEqual(image.pixels[3 * i], image.pixels[3 * i + 1])
        }
    }

    func testNativePresetKeepsAspectRatioOnPatchMultiples() throws {
        let p = Preprocessing(preset: .native, size: 448)
        let s = try p.outputSize(width: 640, height: 480)
        XCTAssertEqual(s.height, 448)
        XCTAssertEqual(s.width, 592)  // 597.3 rounded to a multiple of 16
        XCTAssertEqual(try Preprocessing(preset: .native, size: 224).outputSize(width: 300, height: 200).width, 336)
        // A 1:20 strip would need 20x the tokens of a square input: refused, not run.
        XCTAssertThrowsError(try p.outputSize(width: 100, height: 2000))
        XCTAssertEqual(try p.outputSize(width: 100, height: 390).height, 1744)  // 3.9:1 is still fine
    }

    func testEvalPresetMatchesTorchvisionResizeThenCentreCrop() throws {
        // Meta's eval transform (Resize(round(S*256/224)) bicubic, CenterCrop(S), Normalize) on
        // the landscape and portrait inputs of the resample fixture, against torch's own output
        // (crop offsets round halves to even, as torchvision does).
        let fixture = try SafeTensorsFile(path: Fixtures.root.appendingPathComponent("resample.safetensors").path)
        for (id, size) in [("b", 32), ("c", 48)] {
            let name = try XCTUnwrap(fixture.names.first { $0.hasPrefix("bicubic.\(id).") && $0.hasSuffix("_\(size)x\(size)") }, id)
            let info = try XCTUnwrap(fixture.tensors["input.\(id)"])
            let image = try RGBImage(width: info.shape[1], height: info.shape[0], pixels: fixture.ints("input.\(id)").map { UInt8($0) })
            let p = Preprocessing(preset: .eval, size: size)
            let result = try p.apply(image)
            XCTAssertEqual([result.height, result.width], [size, size])
            let plane = size * size
            let expected = try fixture.floats(name).enumerated().map { i, v in (v - p.mean[i / plane]) / p.std[i / plane] }
            XCTAssertEqual(maxAbsDiff(result.pixels, expected), 0, name)
        }
    }
}
