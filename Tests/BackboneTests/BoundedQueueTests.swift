@testable import Backbone
import Foundation
import XCTest

/// The queue between the decoding thread and the forward pass.
final class BoundedQueueTests: XCTestCase {
    func testItemsArriveInOrderAndTheProducerWaitsAtCapacity() {
        let queue = BoundedQueue<Int>(capacity: 3)
        let produced = Counter()
        let producer = Thread {
            for i in 0..<100 {
                queue.put(i)
                produced.increment()
            }
            queue.close()
        }
        producer.start()
        // With nobody taking, the producer stops after filling the queue.
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(produced.value, 3)
        var taken: [Int] = []
        while let item = queue.take() { taken.append(item) }
        XCTAssertEqual(taken, Array(0..<100))
    }

    func testCancelReleasesABlockedProducerAndEndsTheConsumer() {
        let queue = BoundedQueue<Int>(capacity: 1)
        let finished = expectation(description: "producer finished")
        let producer = Thread {
            for i in 0..<10 { queue.put(i) }
            finished.fulfill()
        }
        producer.start()
        Thread.sleep(forTimeInterval: 0.1)
        queue.cancel()
        wait(for: [finished], timeout: 5)
        XCTAssertTrue(queue.isCancelled)
        XCTAssertNotNil(queue.take())  // what was in the queue before the cancel
        XCTAssertNil(queue.take())
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
    func increment() { lock.lock(); count += 1; lock.unlock() }
}
