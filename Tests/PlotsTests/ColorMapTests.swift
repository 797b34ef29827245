import Foundation
import Images
import Plots
import XCTest

/// The plasma colour map against matplotlib 3.11's `colormaps["plasma"](x, bytes=True)`.
final class ColorMapTests: XCTestCase {
    func testPlasmaEqualsMatplotlib() throws {
        let map = ColorMap.plasma
        XCTAssertEqual(map.table.count, 768)
        for (x, expected) in [(0.0, [12, 7, 134]), (0.5, [203, 71, 119]), (1.0, [239, 248, 33]), (0.123, [74, 2, 160]),
                              (0.999, [239, 248, 33]), (-3, [12, 7, 134]), (7, [239, 248, 33])] as [(Double, [UInt8])] {
            let c = map.rgb(x)
            XCTAssertEqual([c.r, c.g, c.b], expected, "\(x)")
        }
    }

    func testFieldImageAndBar() throws {
        let image = try ColorMap.plasma.image([0, 5, 10, .nan], width: 2, height: 2, range: 0...10, empty: (1, 2, 3))
        XCTAssertEqual(Array(image.pixels[0..<3]), [12, 7, 134])
        XCTAssertEqual(Array(image.pixels[3..<6]), [203, 71, 119])
        XCTAssertEqual(Array(image.pixels[9..<12]), [1, 2, 3])
        XCTAssertThrowsError(try ColorMap.plasma.image([1], width: 2, height: 2, range: 0...1))
        XCTAssertThrowsError(try ColorMap.plasma.image([1], width: 1, height: 1, range: 1...1))
        let bar = try ColorMap.plasma.bar(width: 3, height: 10)
        XCTAssertEqual(Array(bar.pixels[0..<3]), [239, 248, 33])
        XCTAssertEqual(Array(bar.pixels.suffix(3)), [12, 7, 134])
    }
}
