import Foundation
import Images
import SafeTensors
import Support
import Training
import XCTest

/// Meta's depth training views: the NYU fixed crop box, flip-then-crop keeping image and depth
/// aligned, ColorAug's formula, padding of small images, determinism from the seed.
final class DepthAugmentationTests: XCTestCase {
    /// An image whose red channel is its depth x 20 and green its column, so alignment is visible.
    func pair(width: Int, height: Int) throws -> (RGBImage, DepthMap) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3), depth = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let d = Float((x * 7 + y * 3) % 12 + 1) / 2
                depth[y * width + x] = d
                (pixels[(y * width + x) * 3], pixels[(y * width + x) * 3 + 1]) = (UInt8(d * 20), UInt8(x % 256))
            }
        }
        return (try RGBImage(width: width, height: height, pixels: pixels), DepthMap(uncheckedWidth: width, height: height, values: depth))
    }

    func testDepthMapResizesByNearestAndRoundTripsThroughPNG() throws {
        let map = DepthMap(uncheckedWidth: 3, height: 2, values: [0, 1.5, 2.25, 3, 0.001, 65.535])
        let mask = try LabelMask(width: 3, height: 2, labels: [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(map.resized(width: 7, height: 5).values, mask.resized(width: 7, height: 5).labels.map { map.values[Int($0)] })
        let path = NSTemporaryDirectory() + "depth-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try map.writePNG(to: path, scale: 1000)
        XCTAssertEqual(try DepthMap(png: path, scale: 1000), map)
        XCTAssertEqual(try DepthMap(png: path, scale: 1000).validCount, 5)
        XCTAssertThrowsError(try DepthMap(uncheckedWidth: 1, height: 1, values: [.nan]).encoded(scale: 1000))
    }

    func testViewsEqualMetasTransformsWithTheSameDraws() throws {
        // scripts/make_depth_augment_fixtures.py: NYUCrop, ToTensor, NormalizeDepth, hflip, crop, ColorAug.
        let file = try SafeTensorsFile(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/depth_augment.safetensors").path)
        var worst: Float = 0
        for i in 0..<4 {
            let p = try file.floats("params\(i)").map(Double.init)
            let (w, h) = (Int(p[0]), Int(p[1]))
            let image = try RGBImage(width: w, height: h, pixels: try file.floats("image\(i)").map { UInt8($0) })
            let depth = DepthMap(uncheckedWidth: w, height: h, values: try file.floats("depth\(i)").map { $0 / 1000 })
            var augmentation = DepthAugmentation(fixedCrop: p[4] != 0 ? .nyu : .full)
            (augmentation.cropWidth, augmentation.cropHeight) = (Int(p[2]), Int(p[3]))
            let colour = p[8] != 0 ? (Float(p[9]), Float(p[10]), [Float(p[11]), Float(p[12]), Float(p[13])]) : nil
            let draws = DepthAugmentation.Draws(rotation: p[14] != 0 ? Float(p[15]) : nil, flip: p[5] != 0, top: Int(p[6]), left: Int(p[7]), colour: colour)
            let view = try augmentation.view(image: image, depth: depth, draws: draws)
            XCTAssertEqual([view.width, view.height], [Int(p[2]), Int(p[3])])
            let expected = try file.floats("out_depth\(i)")
            XCTAssertEqual(zip(view.depth.values, expected).filter { $0 != $1 }.count, 0, "case \(i): depth pixels that differ")
            for (a, b) in zip(view.pixels, try file.floats("out_image\(i)")) { worst = max(worst, abs(a - b)) }
        }
        XCTAssertLessThan(worst, 1e-5, "largest difference from Meta's rotation and ColorAug")
        print("depth augmentation: largest pixel difference from Meta's transforms \(worst)")
    }

    func testNYUCropBoxIsMetasScaled() {
        XCTAssertTrue(DepthAugmentation.nyuCropBox(width: 640, height: 480) == (43, 45, 565, 427))
        XCTAssertTrue(DepthAugmentation.nyuCropBox(width: 320, height: 240) == (21, 22, 283, 214))
    }

    func testViewsKeepImageAndDepthAlignedAndFollowFlipThenCrop() throws {
        let (image, depth) = try pair(width: 90, height: 70)
        var augmentation = DepthAugmentation(fixedCrop: .full)
        (augmentation.cropWidth, augmentation.cropHeight, augmentation.colourProbability, augmentation.rotationProbability) = (40, 30, 0, 0)
        var flips = 0
        for seed in 0..<20 {
            var random = SeededRandom(seed: UInt64(seed))
            let view = try augmentation.view(image: image, depth: depth, random: &random)
            XCTAssertEqual([view.width, view.height, view.depth.width, view.depth.height], [40, 30, 40, 30])
            for p in 0..<(40 * 30) { XCTAssertEqual(view.pixels[p] * 255, view.depth.values[p] * 20, accuracy: 1e-3) }
            let columns = (0..<40).map { Int((view.pixels[40 * 30 + $0] * 255).rounded()) }
            if columns[0] > columns[1] { flips += 1; XCTAssertEqual(columns, columns.sorted(by: >)) } else { XCTAssertEqual(columns, columns.sorted()) }
        }
        XCTAssertTrue((4...16).contains(flips), "\(flips) of 20 views flipped")
        var a = SeededRandom(seed: 9), b = SeededRandom(seed: 9)
        XCTAssertEqual(try augmentation.view(image: image, depth: depth, random: &a).pixels,
                       try augmentation.view(image: image, depth: depth, random: &b).pixels)
    }

    func testColourAugFormulaAndPaddingOfSmallImages() throws {
        let (image, depth) = try pair(width: 20, height: 10)
        var augmentation = DepthAugmentation(fixedCrop: .full)
        (augmentation.colourProbability, augmentation.flipProbability, augmentation.rotationProbability) = (1, 0, 0)
        (augmentation.gamma, augmentation.brightness, augmentation.colour) = ([1.1, 1.1], [0.8, 0.8], [1.05, 1.05])
        var random = SeededRandom(seed: 1)
        let view = try augmentation.view(image: image, depth: depth, random: &random)
        XCTAssertEqual([view.width, view.height, view.depth.width, view.depth.height], [20, 10, 544, 416])
        XCTAssertEqual(view.depth.validCount, depth.validCount)
        for p in [0, 7, 150] {
            let v = Float(image.pixels[p * 3]) // red, plane 0, no flip, whole image
            XCTAssertEqual(view.pixels[p], min(Foundation.pow(v, Float(1.1)) * Float(0.8) * Float(1.05), 255) / 255, accuracy: 1e-6)
        }
        let normalised = view.normalised(Preprocessing(preset: .eval, size: 16))
        XCTAssertEqual(normalised.count, 3 * 544 * 416)
        XCTAssertEqual(normalised[30], 0)
        XCTAssertThrowsError(try augmentation.view(image: image, depth: DepthMap(uncheckedWidth: 2, height: 1, values: [1, 1]), random: &random))
    }
}
