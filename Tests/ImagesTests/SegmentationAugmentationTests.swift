import Foundation
@testable import Images
import SafeTensors
import Support
import XCTest

/// Meta's segmentation training augmentation: the deterministic steps against PIL, torch and
/// torchvision (scripts/make_seg_augment_fixtures.py), the random glue by its invariants.
final class SegmentationAugmentationTests: XCTestCase {
    let fixtures = Fixtures.root

    func fixture() throws -> (SafeTensorsFile, RGBImage) {
        (try SafeTensorsFile(path: fixtures.appendingPathComponent("seg_augment.safetensors").path),
         try ImageDecoder.decode(path: fixtures.appendingPathComponent("images/palette_100x140.png").path))
    }

    func testResizeAgainstPILBilinearAndTorchNearest() throws {
        let (file, image) = try fixture()
        let mask = try LabelMask(width: 100, height: 140, labels: try file.ints("labels").map { UInt8($0) })
        let sizes = try file.ints("sizes").map { Int($0) }
        for n in 0..<(sizes.count / 2) {
            let (w, h) = (sizes[2 * n], sizes[2 * n + 1])
            XCTAssertEqual(mask.resizedNearest(width: w, height: h), try file.ints("labels\(n)").map { UInt8($0) }, "\(w)x\(h)")
            let ours = try SegmentationAugmentation.resizedBilinear(image, width: w, height: h).pixels
            let pil = try file.ints("resized\(n)")
            let differences = zip(ours, pil).map { abs(Int64($0) - $1) }
            let equal = Double(differences.filter { $0 == 0 }.count) / Double(pil.count)
            print("bilinear \(w)x\(h) vs PIL: \(String(format: "%.1f", 100 * equal))% of values equal, max difference \(differences.max() ?? -1)")
            XCTAssertLessThanOrEqual(differences.max() ?? 99, 1, "\(w)x\(h)")
            XCTAssertGreaterThan(equal, 0.8, "\(w)x\(h)")
        }
    }

    func testPhotometricDistortionEqualsTorchvision() throws {
        let (file, image) = try fixture()
        let draws = try file.withBytes(of: "draws") { raw in (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
        for n in 0..<(draws.count / 5) {
            let d = Array(draws[(n * 5)..<(n * 5 + 5)])
            func value(_ x: Double) -> Double? { x.isNaN ? nil : x }
            let draw = PhotometricDistortion.Draw(brightness: value(d[0]), contrastFirst: d[1] == 1, contrast: value(d[2]),
                                                  saturation: value(d[3]), hue: value(d[4]))
            let ours = PhotometricDistortion.apply(image, draw).pixels
            let reference = try file.ints("photometric\(n)").map { UInt8($0) }
            let differing = zip(ours, reference).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "draw \(d): \(differing) of \(reference.count) values differ")
        }
    }

    func testDrawsFollowMetasOrderAndRanges() {
        let distortion = PhotometricDistortion()
        var counts = [0, 0, 0, 0, 0]
        for seed in 0..<2000 {
            var random = SeededRandom(seed: UInt64(seed))
            let draw = distortion.draw(random: &random)
            var again = SeededRandom(seed: UInt64(seed))
            XCTAssertEqual(distortion.draw(random: &again), draw)
            for (i, present) in [draw.brightness != nil, draw.contrastFirst, draw.contrast != nil, draw.saturation != nil, draw.hue != nil].enumerated()
            where present { counts[i] += 1 }
            if let b = draw.brightness { XCTAssert((-32...32).contains(b)) }
            if let c = draw.contrast { XCTAssert((0.5...1.5).contains(c)) }
            if let s = draw.saturation { XCTAssert((0.5...1.5).contains(s)) }
            if let h = draw.hue { XCTAssert((-0.5...0.5).contains(h)) }
        }
        for count in counts { XCTAssert((850...1150).contains(count), "\(counts): each step about half the time") }
    }

    /// An image whose colour names its label, in `side` x `side` blocks.
    func blocks(width: Int, height: Int, side: Int = 10, labels: (Int, Int) -> UInt8) throws -> (RGBImage, LabelMask, [[UInt8]]) {
        let palette: [[UInt8]] = [[230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [250, 250, 250]]
        var pixels: [UInt8] = [], values: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let label = labels(x / side, y / side)
                values.append(label)
                pixels += palette[Int(label)]
            }
        }
        return (try RGBImage(width: width, height: height, pixels: pixels), try LabelMask(width: width, height: height, labels: values), palette)
    }

    /// The index of the palette colour closest to `pixel`.
    func nearest(_ pixel: [UInt8], in palette: [[UInt8]]) -> Int {
        var best = (index: 0, distance: Int.max)
        for (i, colour) in palette.enumerated() {
            var distance = 0
            for c in 0..<3 {
                let d = Int(pixel[c]) - Int(colour[c])
                distance += d * d
            }
            if distance < best.distance { best = (i, distance) }
        }
        return best.index
    }

    func testViewsKeepPixelsAndLabelsTogether() throws {
        let (image, mask, palette) = try blocks(width: 240, height: 180, side: 60) { UInt8(($0 * 7 + $1 * 3) % 6) }
        var augmentation = SegmentationAugmentation(size: 64)
        augmentation.photometric = nil
        let preprocessing = Preprocessing()
        var padded = 0
        for seed in 0..<40 {
            var random = SeededRandom(seed: UInt64(seed))
            let view = try augmentation.view(image: image, mask: mask, random: &random)
            let (w, h) = (view.image.width, view.image.height)
            XCTAssert(w <= 64 && h <= 64 && view.labels.count == 64 * 64)
            if w < 64 || h < 64 { padded += 1 }
            // Inside the crop: labelled pixels carry their label's colour (block edges blur).
            var matching = 0, labelled = 0
            for y in 0..<h {
                for x in 0..<w {
                    let label = view.labels[y * 64 + x]
                    XCTAssertNotEqual(label, 255, "no ignore label inside the crop here")
                    labelled += 1
                    let pixel = Array(view.image.pixels[((y * w + x) * 3)..<((y * w + x) * 3 + 3)])
                    if nearest(pixel, in: palette) == Int(label) { matching += 1 }
                }
            }
            XCTAssertGreaterThan(Double(matching) / Double(labelled), 0.85, "seed \(seed)")
            // Outside: ignored labels and zero inputs.
            let pixels = view.pixels(preprocessing)
            for y in 0..<64 {
                for x in 0..<64 where x >= w || y >= h {
                    XCTAssertEqual(view.labels[y * 64 + x], 255)
                    for c in 0..<3 { XCTAssertEqual(pixels[c * 64 * 64 + y * 64 + x], 0) }
                }
            }
            // Inside, the normalised value of a pixel.
            let p = (h / 2) * w + w / 2
            XCTAssertEqual(pixels[(h / 2) * 64 + w / 2], (Float(view.image.pixels[p * 3]) / 255 - preprocessing.mean[0]) / preprocessing.std[0], accuracy: 1e-6)
        }
        XCTAssertGreaterThan(padded, 0, "scales below 1 leave crops smaller than 64 (short side 32 to 128 here)")
        XCTAssertLessThan(padded, 40)
    }

    func testFlipMirrorsImageAndLabelsTogether() throws {
        let (image, mask, _) = try blocks(width: 100, height: 80) { UInt8(($0 + 2 * $1) % 5) }
        var never = SegmentationAugmentation(size: 48), always = never
        (never.flipProbability, always.flipProbability) = (0, 1)
        for seed in 0..<10 {
            var a = SeededRandom(seed: UInt64(seed)), b = a
            let plain = try never.view(image: image, mask: mask, random: &a), flipped = try always.view(image: image, mask: mask, random: &b)
            XCTAssertNotEqual(plain.image.pixels, flipped.image.pixels, "photometric draws follow the flip draw in the same stream")
            var c = SeededRandom(seed: UInt64(seed)), d = c
            never.photometric = nil
            always.photometric = nil
            let p = try never.view(image: image, mask: mask, random: &c), f = try always.view(image: image, mask: mask, random: &d)
            XCTAssertEqual(f.image, p.image.mirrored())
            let (w, h) = (p.image.width, p.image.height)
            for y in 0..<h { XCTAssertEqual(Array(f.labels[(y * 48)..<(y * 48 + w)]), Array(p.labels[(y * 48)..<(y * 48 + w)].reversed())) }
            never.photometric = PhotometricDistortion()
            always.photometric = PhotometricDistortion()
        }
    }

    func testCropsAvoidOneClassDominating() throws {
        // One class covers 80% of the image; a small corner has four others.
        let (image, mask, _) = try blocks(width: 200, height: 200) { x, y in x < 8 && y < 8 ? UInt8(1 + (x + y) % 4) : 0 }
        func balanced(_ catMaxRatio: Double) throws -> Int {
            var augmentation = SegmentationAugmentation(size: 64)
            augmentation.photometric = nil
            augmentation.catMaxRatio = catMaxRatio
            var good = 0
            for seed in 0..<60 {
                var random = SeededRandom(seed: UInt64(seed))
                let view = try augmentation.view(image: image, mask: mask, random: &random)
                var counts = [Int](repeating: 0, count: 256)
                for label in view.labels where label != 255 { counts[Int(label)] += 1 }
                let present = counts.filter { $0 > 0 }
                if present.count > 1, Double(present.max()!) / Double(present.reduce(0, +)) < 0.75 { good += 1 }
            }
            return good
        }
        let (checked, unchecked) = (try balanced(0.75), try balanced(1.0))
        print("crops with no class at 75% or more: \(checked) of 60 with cat_max_ratio 0.75, \(unchecked) without")
        XCTAssertGreaterThan(checked, unchecked + 10)
    }

    func testResizedSizeFollowsMeta() {
        let augmentation = SegmentationAugmentation(size: 512)
        // FixedSideResize: short side int(512 x ratio), long side int(short x long / short + 0.5).
        XCTAssert(augmentation.resizedSize(width: 683, height: 512, ratio: 0.5) == (342, 256))
        XCTAssert(augmentation.resizedSize(width: 300, height: 400, ratio: 1.0) == (512, 683))
        XCTAssert(augmentation.resizedSize(width: 500, height: 500, ratio: 1.9999) == (1023, 1023))
        XCTAssert(augmentation.resizedSize(width: 1, height: 4000, ratio: 0.5) == (256, 1_024_000))
    }

    func testDifferentSizesAreRefused() throws {
        let image = try RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 9, count: 48))
        let mask = try LabelMask(width: 4, height: 5, labels: [UInt8](repeating: 0, count: 20))
        var random = SeededRandom(seed: 1)
        XCTAssertThrowsError(try SegmentationAugmentation(size: 8).view(image: image, mask: mask, random: &random))
        // A 1 x 3000 strip would become 256 x 768,000 or more at size 512: refused, not resized.
        let strip = try RGBImage(width: 1, height: 3000, pixels: [UInt8](repeating: 9, count: 9000))
        let stripMask = try LabelMask(width: 1, height: 3000, labels: [UInt8](repeating: 0, count: 3000))
        XCTAssertThrowsError(try SegmentationAugmentation(size: 512).view(image: strip, mask: stripMask, random: &random))
        XCTAssertThrowsError(try SegmentationAugmentation(size: 0).view(image: image, mask: image.width == 4 ? LabelMask(width: 4, height: 4, labels: [UInt8](repeating: 0, count: 16)) : mask, random: &random))
    }
}
