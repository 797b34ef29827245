@testable import Evaluation
import XCTest

/// Metrics accumulated one image or sample at a time equal the ones computed at once, under the same JSON keys.
final class MetricAccumulatorTests: XCTestCase {
    func testClassificationOneSampleAtATimeEqualsAllAtOnce() throws {
        let names = ["a", "b", "c", "d", "e", "f"]
        let scores: [[Float]] = (0..<20).map { i in (0..<6).map { c in Float((i * 7 + c * 3) % 11) } }
        let labels = (0..<20).map { $0 % 6 }
        var accumulator = ClassificationAccumulator(classNames: names)
        for (s, l) in zip(scores, labels) { try accumulator.update((s, l)) }
        let whole = try ClassificationMetrics(scores: scores.flatMap { $0 }, labels: labels, classNames: names)
        XCTAssertEqual(try accumulator.finish(), whole)
        XCTAssertEqual(try accumulator.finish().jsonData(), try MetricsReport.jsonData(whole))
        XCTAssertThrowsError(try accumulator.update(([1, 2], 0)), "scores for the wrong number of classes")
    }

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
