import Foundation
import Images
import SafeTensors
import Support
import XCTest

/// Meta's classification training transform: torchvision's RandomResizedCrop parameters and
/// resized_crop + flip against torchvision (scripts/make_augment_fixtures.py).
final class AugmentationTests: XCTestCase {
    func testResizedCropAndFlipMatchTorchvision() throws {
        let fixtures = Fixtures.root
        let file = try SafeTensorsFile(path: fixtures.appendingPathComponent("augment.safetensors").path)
        let image = try ImageDecoder.decode(path: fixtures.appendingPathComponent("images/palette_100x140.png").path)
        let boxes = try file.ints("boxes").map { Int($0) }
        for n in 0..<(boxes.count / 5) {
            let b = Array(boxes[(n * 5)..<(n * 5 + 5)])
            let expected = try file.floats("view\(n)")
            let size = Int(Double(expected.count / 3).squareRoot())
            let ours = try RandomResizedCrop.resizedCrop(image, box: .init(x: b[0], y: b[1], width: b[2], height: b[3]), size: size,
                                                         mirrored: b[4] == 1)
            let diff = zip(ours, expected).map { abs($0 - $1) }.max() ?? 1
            XCTAssertLessThanOrEqual(diff, 2e-6, "box \(b): max abs diff \(diff)")
        }
    }

    func testBoxesFollowTorchvisionsGetParams() {
        let crop = RandomResizedCrop()
        // torchvision's get_params written out independently, drawing the same numbers in the same order.
        func reference(width: Int, height: Int, random: inout SeededRandom) -> [Int] {
            let area = Double(width * height)
            for _ in 0..<10 {
                let target = area * (0.08 + (1 - 0.08) * random.uniformDouble())
                let logLow = log(3.0 / 4), logHigh = log(4.0 / 3)
                let aspect = exp(logLow + (logHigh - logLow) * random.uniformDouble())
                let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
                let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
                if w > 0 && w <= width && h > 0 && h <= height {
                    let y = random.int(below: height - h + 1)
                    return [random.int(below: width - w + 1), y, w, h]
                }
            }
            return []
        }
        var ours = SeededRandom(seed: 1), theirs = SeededRandom(seed: 1)
        for _ in 0..<500 {
            let b = crop.box(width: 500, height: 375, random: &ours)
            XCTAssertEqual([b.x, b.y, b.width, b.height], reference(width: 500, height: 375, random: &theirs))
            XCTAssertTrue(b.x >= 0 && b.y >= 0 && b.x + b.width <= 500 && b.y + b.height <= 375, "\(b)")
            let share = Double(b.width * b.height) / Double(500 * 375), ratio = Double(b.width) / Double(b.height)
            // Sides are rounded, so the share and the ratio may pass their bounds by a rounding step.
            XCTAssertTrue(share > 0.075 && share <= 1.0 && ratio > 0.70 && ratio < 1.42, "share \(share), ratio \(ratio)")
        }
        // A 1000 x 10 strip: no draw can fit within the ratio bounds, so the centred fallback with
        // the ratio clamped to 4/3: height 10, width round(10 * 4/3) = 13.
        var r = SeededRandom(seed: 2)
        let strip = crop.box(width: 1000, height: 10, random: &r)
        XCTAssertEqual([strip.x, strip.y, strip.width, strip.height], [(1000 - 13) / 2, 0, 13, 10])
    }
}
