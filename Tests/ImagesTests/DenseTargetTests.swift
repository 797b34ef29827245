import Images
import XCTest

/// The dense-target rules: a class mask resizes by nearest neighbour as before, and a float
/// target (a depth map, as the depth task will add) gets crop, pad and flip from the protocol.
final class DenseTargetTests: XCTestCase {
    struct Depth: DenseTarget {
        var width: Int, height: Int, values: [Float]
        static var ignoredValue: Float { 0 }
        init(uncheckedWidth width: Int, height: Int, values: [Float]) { (self.width, self.height, self.values) = (width, height, values) }
        func resizedValues(width w: Int, height h: Int) -> [Float] {
            (0..<(w * h)).map { values[($0 / w) * height / h * width + ($0 % w) * width / w] }
        }
    }

    func testAClassMaskResizesByNearestNeighbourAndCropsPadsAndFlips() throws {
        let mask = try LabelMask(width: 3, height: 2, labels: [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(mask.resized(width: 6, height: 4).labels, mask.resizedNearest(width: 6, height: 4))
        XCTAssertEqual(mask.mirrored().labels, [2, 1, 0, 5, 4, 3])
        XCTAssertEqual(mask.cropped(x: 1, y: 0, width: 2, height: 2).labels, [1, 2, 4, 5])
        let padded = mask.cropped(x: 1, y: 1, width: 2, height: 1).padded(width: 3, height: 2)
        XCTAssertEqual(padded.labels, [4, 5, 255, 255, 255, 255], "padding is the ignore index")
    }

    func testAFloatTargetGetsTheSameRules() {
        let depth = Depth(uncheckedWidth: 2, height: 2, values: [1.5, 2.5, 3.5, 4.5])
        XCTAssertEqual(depth.mirrored().values, [2.5, 1.5, 4.5, 3.5])
        XCTAssertEqual(depth.padded(width: 3, height: 3).values, [1.5, 2.5, 0, 3.5, 4.5, 0, 0, 0, 0], "no depth outside")
        XCTAssertEqual(depth.resized(width: 4, height: 2).values, [1.5, 1.5, 2.5, 2.5, 3.5, 3.5, 4.5, 4.5])
        XCTAssertEqual(depth.cropped(x: 0, y: 1, width: 2, height: 1).values, [3.5, 4.5])
    }
}
