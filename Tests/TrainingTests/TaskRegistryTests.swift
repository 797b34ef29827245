@testable import Training
import XCTest

/// Every task folder is registered once, under the command that runs it.
final class TaskRegistryTests: XCTestCase {
    func testEveryTaskIsRegisteredOnceWithASummary() {
        let names = TaskRegistry.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "a command registered twice: \(names)")
        XCTAssertEqual(Set(names), ["train-linear", "train-logreg", "knn", "fewshot", "train-seg", "correspondence", "retrieval", "propagate", "train-depth"])
        for task in TaskRegistry.all {
            XCTAssertFalse(task.summary.isEmpty, task.name)
            XCTAssertEqual(TaskRegistry.task(named: task.name), task)
        }
        XCTAssertNil(TaskRegistry.task(named: "segment"))
    }
}
