import Evaluation
import Foundation
import Images
@testable import Plots
import XCTest

/// Segmentation overlays: the blend, and a legend that is never cut.
final class OverlayTests: XCTestCase {
    /// A picture with some structure: red grows to the right, green downwards, blue fixed.
    func gradient(width: Int, height: Int) throws -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { pixels += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), 77] as [UInt8] }
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Checks every legend entry fits and shows its class colour, the blend at every `step`-th
    /// pixel, and the white padding under the image.
    func checkOverlay(image: RGBImage, mask: [UInt8], classes: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let palette = Palette.voc(count: classes)
        let names = (0..<classes).map { "class number \($0) with a long name" }
        let out = try SegmentationRendering.overlay(image: image, mask: mask, palette: palette, classNames: names)
        let areas = SegmentationRendering.classAreas(mask, classes: classes)
        XCTAssertEqual(areas.count, classes, file: file, line: line)
        XCTAssertGreaterThanOrEqual(out.height, image.height, file: file, line: line)
        let bounds = CGRect(x: 0, y: 0, width: out.width, height: out.height)
        let layout = try SegmentationRendering.legendLayout(image: image, mask: mask, palette: palette, classNames: names)
        XCTAssertEqual(layout.slots.count, classes, file: file, line: line)
        XCTAssertEqual([layout.width, layout.height], [out.width, out.height], file: file, line: line)
        for (slot, area) in zip(layout.slots, areas) {
            XCTAssertTrue(bounds.contains(slot.swatch) && bounds.contains(slot.text), "entry \(area.label) cut", file: file, line: line)
            XCTAssertGreaterThanOrEqual(slot.swatch.minX, Double(image.width), file: file, line: line)
            let c = area.label * 3
            XCTAssertEqual(PixelProbe.pixel(out, Int(slot.swatch.midX), Int(slot.swatch.midY)), Array(palette[c..<(c + 3)]),
                           "swatch of class \(area.label)", file: file, line: line)
            XCTAssertGreaterThan(PixelProbe.darkCount(out, in: slot.text), 20, "no text for class \(area.label)", file: file, line: line)
        }
        // Nothing reaches the right or bottom edge (the legend grew the picture instead).
        var panel: [UInt8] = []
        for y in 0..<out.height { panel += out.pixels[((y * out.width + image.width) * 3)..<((y + 1) * out.width * 3)] }
        let legend = try RGBImage(width: out.width - image.width, height: out.height, pixels: panel)
        XCTAssertTrue(PixelProbe.rightAndBottomAreWhite(legend, band: 3), file: file, line: line)
        for y in stride(from: 0, to: image.height, by: 3) {
            for x in stride(from: 0, to: image.width, by: 2) {
                let i = y * image.width + x, c = Int(mask[i]) * 3
                let expected = (0..<3).map { (ch: Int) -> UInt8 in
                    let sum: Int = Int(image.pixels[i * 3 + ch]) + Int(palette[c + ch]) + 1
                    return UInt8(sum / 2)
                }
                XCTAssertEqual(PixelProbe.pixel(out, x, y), expected, "blend at \(x),\(y)", file: file, line: line)
            }
        }
        for y in image.height..<out.height { XCTAssertEqual(PixelProbe.pixel(out, image.width / 2, y), [255, 255, 255], file: file, line: line) }
    }

    func testThirtyClassesOnAFortyPixelHighImage() throws {
        let image = try gradient(width: 60, height: 40)
        let mask = (0..<(60 * 40)).map { UInt8(($0 % 60) / 2) }  // two columns per class
        try checkOverlay(image: image, mask: mask, classes: 30)
    }

    func testEightPixelWideImage() throws {
        let image = try gradient(width: 8, height: 600)
        let mask = (0..<(8 * 600)).map { UInt8(($0 / 8) / 50) }  // 12 bands of 50 rows
        try checkOverlay(image: image, mask: mask, classes: 12)
    }

    func testImagesWiderThanACanvasStillGetAnOverlay() throws {
        let w = Canvas.maxSide + 100
        let image = try RGBImage(width: w, height: 2, pixels: [UInt8](repeating: 100, count: w * 6))
        let out = try SegmentationRendering.overlay(image: image, mask: [UInt8](repeating: 0, count: w * 2), palette: [50, 150, 250],
                                                    classNames: ["all"])
        XCTAssertGreaterThan(out.width, w)
        XCTAssertEqual(PixelProbe.pixel(out, w - 1, 1), [75, 125, 175])  // (100+50+1)/2, (100+150+1)/2, (100+250+1)/2
    }

    func testIgnoredAndUncolouredPixelsStayAsTheyAre() throws {
        let image = try RGBImage(width: 3, height: 1, pixels: [10, 20, 30, 40, 50, 60, 70, 80, 90])
        let out = try SegmentationRendering.overlay(image: image, mask: [255, 1, 0], palette: [200, 100, 0], classNames: ["a", "b"])
        XCTAssertEqual(PixelProbe.pixel(out, 0, 0), [10, 20, 30])
        XCTAssertEqual(PixelProbe.pixel(out, 1, 0), [40, 50, 60])  // class 1 has no palette colour
        XCTAssertEqual(PixelProbe.pixel(out, 2, 0), [135, 90, 45])  // (70+200+1)/2, (80+100+1)/2, (90+0+1)/2
        XCTAssertThrowsError(try SegmentationRendering.overlay(image: image, mask: [0, 0], palette: [], classNames: ["a"]))
    }
}
