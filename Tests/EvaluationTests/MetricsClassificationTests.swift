import Foundation
@testable import Evaluation
import XCTest

/// ClassificationMetrics against hand-computed values (scikit-learn semantics for F1).
final class MetricsClassificationTests: XCTestCase {
    let names5 = ["a", "b", "c", "d", "e"]

    /// One-hot-ish scores whose argmax is `p` in each row.
    func scores(for predictions: [Int], classCount k: Int) -> [Float] {
        var s = [Float](repeating: 0, count: predictions.count * k)
        for (i, p) in predictions.enumerated() { s[i * k + p] = 1 }
        return s
    }

    /// labels [0,0,0,1,1,2,2,2], predictions [0,0,1,1,3,2,0,2]; class 3 is predicted but has no
    /// true sample, class 4 is neither labelled nor predicted.
    func testHandComputedCase() throws {
        let labels = [0, 0, 0, 1, 1, 2, 2, 2]
        let preds = [0, 0, 1, 1, 3, 2, 0, 2]
        let m = try ClassificationMetrics(scores: scores(for: preds, classCount: 5), labels: labels, classNames: names5)
        XCTAssertEqual(m.count, 8)
        XCTAssertEqual(m.top1, 5.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(m.top5, 1.0) // K = 5: every true class is in the top 5
        XCTAssertEqual(m.confusion, [[2, 1, 0, 0, 0], [0, 1, 0, 1, 0], [1, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
        XCTAssertEqual(m.support, [3, 2, 3, 0, 0])
        assertEqual(m.perClassRecall, [2.0 / 3, 0.5, 2.0 / 3, nil, nil])
        XCTAssertEqual(m.balancedAccuracy, (2.0 / 3 + 0.5 + 2.0 / 3) / 3, accuracy: 1e-12)
        assertEqual(m.perClassPrecision, [2.0 / 3, 0.5, 1.0, 0.0, nil])
        // F1 = 2tp / (2tp + fp + fn): c0 4/6, c1 2/4, c2 4/5, c3 0 (predicted, never true); c4 left out.
        assertEqual(m.perClassF1, [4.0 / 6, 0.5, 0.8, 0, nil])
        // sklearn: f1_score([0,0,0,1,1,2,2,2], [0,0,1,1,3,2,0,2], average="macro") = 0.49166...
        XCTAssertEqual(m.macroF1, (4.0 / 6 + 0.5 + 0.8 + 0) / 4, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, 0.4916666666666667, accuracy: 1e-12)

        let direct = try ClassificationMetrics(predictions: preds, labels: labels, classNames: names5, top5: 1.0)
        XCTAssertEqual(direct, m)
    }

    func testTiesPreferLowerClassIndex() throws {
        // Rows: [1,1,0] -> 0; [0.5,2,2] -> 1; [3,3,3] -> 0; [NaN,0.1,0.2] -> 2 (NaN ranks last).
        let s: [Float] = [1, 1, 0, 0.5, 2, 2, 3, 3, 3, .nan, 0.1, 0.2]
        let m = try ClassificationMetrics(scores: s, labels: [1, 1, 0, 2], classNames: ["x", "y", "z"])
        XCTAssertEqual(m.confusion, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
        XCTAssertEqual(m.top1, 0.75)
        XCTAssertNil(m.top5)
        XCTAssertEqual(m.macroF1, (2.0 / 3 + 2.0 / 3 + 1) / 3, accuracy: 1e-12)
    }

    func testTop5WithTiesAndFewClasses() throws {
        // K = 6, all scores equal: ranks follow the class index, so class 4 is 5th and class 5 is 6th.
        let flat = [Float](repeating: 0, count: 12)
        let six = ["0", "1", "2", "3", "4", "5"]
        let m = try ClassificationMetrics(scores: flat, labels: [4, 5], classNames: six)
        XCTAssertEqual(m.top5, 0.5)
        XCTAssertEqual(m.top1, 0)
        // Class 5 is in the top 5 once its score beats one other class.
        let m2 = try ClassificationMetrics(scores: [0, 0, 0, 0, 0, 0.1, 1, 2, 3, 4, 0.4, 0.5], labels: [5, 5], classNames: six)
        XCTAssertEqual(m2.top5, 1.0)
        XCTAssertEqual(m2.top1, 0.5)
        // K = 4: no top-5.
        let m3 = try ClassificationMetrics(scores: [1, 0, 0, 0], labels: [0], classNames: ["a", "b", "c", "d"])
        XCTAssertNil(m3.top5)
        XCTAssertEqual(m3.balancedAccuracy, 1)
    }

    func testBalancedAccuracyWeighsClassesEqually() throws {
        // Class 0: 9/10 right, class 1: 0/1 right -> top-1 9/11, balanced 0.45.
        let labels = [Int](repeating: 0, count: 10) + [1]
        let preds = [Int](repeating: 0, count: 9) + [1, 0]
        let m = try ClassificationMetrics(predictions: preds, labels: labels, classNames: ["big", "small"])
        XCTAssertEqual(m.top1, 9.0 / 11, accuracy: 1e-12)
        XCTAssertEqual(m.balancedAccuracy, 0.45, accuracy: 1e-12)
        // F1: c0 tp 9 fp 1 fn 1 -> 18/20; c1 tp 0 -> 0.
        XCTAssertEqual(m.macroF1, 0.45, accuracy: 1e-12)
    }

    func testErrorsNameTheProblem() {
        XCTAssertThrowsError(try ClassificationMetrics(scores: [0, 1, 2], labels: [0, 1], classNames: ["a", "b"])) {
            XCTAssertEqual($0 as? MetricsError, .shapeMismatch("3 scores for 2 labels x 2 classes (expected 4)"))
        }
        XCTAssertThrowsError(try ClassificationMetrics(predictions: [0, 1], labels: [0, 2], classNames: ["a", "b"])) {
            XCTAssertEqual($0 as? MetricsError, .outOfRange(what: "label", index: 1, value: 2, classCount: 2))
            XCTAssertTrue("\($0)".contains("outside 0..<2"))
        }
        XCTAssertThrowsError(try ClassificationMetrics(predictions: [-1], labels: [0], classNames: ["a", "b"])) {
            XCTAssertEqual($0 as? MetricsError, .outOfRange(what: "prediction", index: 0, value: -1, classCount: 2))
        }
        XCTAssertThrowsError(try ClassificationMetrics(scores: [], labels: [], classNames: ["a"]))
        XCTAssertThrowsError(try ClassificationMetrics(predictions: [0], labels: [0], classNames: []))
        XCTAssertThrowsError(try ClassificationMetrics(predictions: [0], labels: [0], classNames: ["a"], top5: 1.5))
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
