@testable import Evaluation
import XCTest

/// Metrics accumulated one image at a time equal the ones computed at once, under the same JSON keys.
final class MetricAccumulatorTests: XCTestCase {
    func testSegmentationUpdatesEqualAdds() throws {
        var viaProtocol = try SegmentationMetrics(numClasses: 3), direct = try SegmentationMetrics(numClasses: 3)
        for image in 0..<3 {
            let prediction = (0..<16).map { UInt8(($0 + image) % 3) }, label = (0..<16).map { UInt8($0 % 4 == 3 ? 255 : $0 % 3) }
            try viaProtocol.update((prediction, label))
            try direct.add(prediction: prediction, label: label)
        }
        XCTAssertEqual(viaProtocol.finish(), direct.result())
        XCTAssertTrue(viaProtocol.finish().table(maxNameWidth: 28).contains("mIoU"))
    }
}
