import Foundation
@testable import Evaluation
import XCTest

/// SegmentationMetrics against hand-computed mmsegmentation `intersect_and_union` values.
final class MetricsSegmentationTests: XCTestCase {
    // K = 5, ignore 255. Pixels 4 and 5 are ignored; pixel 6 has an out-of-range label (7): its
    // prediction still counts in areaPrediction; pixel 10 has an out-of-range prediction (9):
    // its label still counts in areaLabel. Class 3 is predicted but never labelled (IoU 0,
    // counted); class 4 appears nowhere (IoU undefined, left out of mIoU).
    let pred: [UInt8] = [0, 0, 1, 1, 2, 3, 0, 1, 3, 2, 9]
    let label: [UInt8] = [0, 0, 1, 0, 255, 255, 7, 1, 1, 2, 2]

    func testHandComputedCase() throws {
        var m = try SegmentationMetrics(numClasses: 5, classNames: ["a", "b", "c", "d", "e"])
        try m.add(prediction: pred, label: label)
        XCTAssertEqual(m.areaIntersect, [2, 2, 1, 0, 0])
        XCTAssertEqual(m.areaPrediction, [3, 3, 1, 1, 0])
        XCTAssertEqual(m.areaLabel, [3, 3, 2, 0, 0])
        XCTAssertEqual(m.pixelCount, 11)
        XCTAssertEqual(m.ignoredCount, 2)
        let r = m.result()
        XCTAssertEqual(r.areaUnion, [4, 4, 2, 1, 0])
        assertEqual(r.perClassIoU, [0.5, 0.5, 0.5, 0, nil])
        XCTAssertEqual(r.mIoU!, 0.375, accuracy: 1e-12)
        assertEqual(r.perClassAccuracy, [2.0 / 3, 2.0 / 3, 0.5, nil, nil])
        XCTAssertEqual(r.mAcc!, 11.0 / 18, accuracy: 1e-12)
        XCTAssertEqual(r.aAcc!, 5.0 / 8, accuracy: 1e-12)
        assertEqual(r.perClassDice, [4.0 / 6, 4.0 / 6, 2.0 / 3, 0, nil])
        XCTAssertEqual(r.mDice!, 0.5, accuracy: 1e-12)
    }

    func testInt32PredictionsAndMerge() throws {
        var whole = try SegmentationMetrics(numClasses: 5)
        try whole.add(prediction: pred.map { Int32($0) } + [-1], label: label + [0])
        // The extra pixel: prediction -1 is out of range, its label 0 still counts.
        XCTAssertEqual(whole.areaLabel, [4, 3, 2, 0, 0])
        XCTAssertEqual(whole.areaPrediction, [3, 3, 1, 1, 0])

        var a = try SegmentationMetrics(numClasses: 5), b = try SegmentationMetrics(numClasses: 5)
        try a.add(prediction: Array(pred[..<4]), label: Array(label[..<4]))
        try b.add(prediction: Array(pred[4...]), label: Array(label[4...]))
        try b.add(prediction: [Int32(-1)], label: [0])
        try a.merge(b)
        XCTAssertEqual(a, whole)
        XCTAssertEqual(a.result(), whole.result())
        XCTAssertEqual(a.result().classNames, ["class 0", "class 1", "class 2", "class 3", "class 4"])
    }

    func testEmptyAndErrors() throws {
        let empty = try SegmentationMetrics(numClasses: 3).result()
        XCTAssertNil(empty.mIoU)
        XCTAssertNil(empty.aAcc)
        XCTAssertEqual(empty.perClassIoU, [nil, nil, nil])
        var m = try SegmentationMetrics(numClasses: 3, ignoreIndex: 0)
        try m.add(prediction: [UInt8]([1, 1]), label: [0, 0])
        XCTAssertEqual(m.ignoredCount, 2)
        XCTAssertNil(m.result().mIoU)
        XCTAssertThrowsError(try m.add(prediction: [UInt8]([1]), label: [0, 0])) {
            XCTAssertEqual($0 as? MetricsError, .shapeMismatch("1 predicted pixels for 2 labelled pixels"))
        }
        XCTAssertThrowsError(try m.merge(SegmentationMetrics(numClasses: 4)))
        XCTAssertThrowsError(try SegmentationMetrics(numClasses: 0))
        XCTAssertThrowsError(try SegmentationMetrics(numClasses: 2, classNames: ["only one"]))
    }

    func assertEqual(_ a: [Double?], _ b: [Double?], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (nil, nil): break
            case let (x?, y?): XCTAssertEqual(x, y, accuracy: 1e-12, "\(a) vs \(b)", file: file, line: line)
            default: XCTFail("\(a) vs \(b)", file: file, line: line)
            }
        }
    }
}
