import Evaluation
import Foundation
import Support
import XCTest

/// One key style in every JSON file dinoprobe writes: snake_case, data keys as they are.
final class JSONKeysTests: XCTestCase {
    func testKeysBecomeSnakeCase() {
        let cases = ["runID": "run_id", "perClassIoU": "per_class_iou", "macroF1": "macro_f1", "mIoU": "miou", "aAcc": "aacc",
                     "top1": "top1", "logicalCPUs": "logical_cpus", "selectionAccuracy": "selection_accuracy", "chosenC": "chosen_c",
                     "classNames": "class_names", "status": "status"]
        for (camel, snake) in cases { XCTAssertEqual(JSONKeys.snakeCase(camel), snake, camel) }
    }

    func testResultsAreWrittenSnakeCaseWithDataKeysVerbatim() throws {
        struct Result: Encodable { var perClassRecall = [0.5]; var byClass = ["ClassA": 1]; var options = JSONValue.object([("batchSize", .number("4"))]) }
        let text = String(decoding: try MetricsReport.jsonData(Result()), as: UTF8.self)
        for key in ["\"per_class_recall\"", "\"by_class\"", "\"ClassA\"", "\"batchSize\""] { XCTAssertTrue(text.contains(key), "\(key): \(text)") }
        XCTAssertFalse(text.contains("perClassRecall"), text)
    }
}
