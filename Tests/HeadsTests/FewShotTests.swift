import Foundation
@testable import Heads
import Support
import XCTest

/// Few-shot subsets follow Meta's `_subset_dataset_per_class`: per try t one generator seeded
/// with t, classes in label order, the first n of a permutation of each class.
final class FewShotTests: XCTestCase {
    // 3 classes: 6, 1 and 9 samples, interleaved.
    let labels = [0, 2, 0, 1, 2, 2, 0, 2, 0, 2, 2, 0, 2, 2, 0, 2]

    func testCountsPerClassForShotsAndShares() throws {
        let two = try FewShot.subsets(labels: labels, shots: 2, tries: 3)
        for subset in two {
            let counts = Dictionary(grouping: subset.map { labels[$0] }, by: { $0 }).mapValues(\.count)
            XCTAssertEqual(counts, [0: 2, 1: 1, 2: 2], "k per class; a class with fewer gives all it has")
            XCTAssertEqual(subset, subset.sorted())
        }
        // A share: max(int(count * p), 1) per class -> int(6 * 0.4) = 2, 1 (at least one), int(9 * 0.4) = 3.
        let share = try FewShot.subsets(labels: labels, shots: 0.4, tries: 1)[0]
        XCTAssertEqual(Dictionary(grouping: share.map { labels[$0] }, by: { $0 }).mapValues(\.count), [0: 2, 1: 1, 2: 3])
        XCTAssertThrowsError(try FewShot.subsets(labels: labels, shots: 0, tries: 1))
    }

    func testDrawsAreMetasFormulaDeterministicAndDifferPerTry() throws {
        let subsets = try FewShot.subsets(labels: labels, shots: 3, tries: 4)
        XCTAssertEqual(subsets, try FewShot.subsets(labels: labels, shots: 3, tries: 4), "deterministic")
        XCTAssertGreaterThan(Set(subsets).count, 1, "tries draw different subsets")
        // The formula written out independently: one generator per try, classes in label order.
        for (t, subset) in subsets.enumerated() {
            var random = SeededRandom(seed: UInt64(t))
            var expected: [Int] = []
            for c in [0, 1, 2] {
                let members = labels.indices.filter { labels[$0] == c }
                let order = random.permutation(members.count)
                expected += order.prefix(min(3, members.count)).map { members[$0] }
            }
            XCTAssertEqual(subset, expected.sorted(), "try \(t)")
        }
    }

    func testScoresAggregateMeanAndSampleStd() {
        let s = FewShot.Score(method: "linear", shots: 1, top1: [0.5, 0.7, 0.9])
        XCTAssertEqual(s.mean, 0.7, accuracy: 1e-12)
        XCTAssertEqual(s.std, 0.2, accuracy: 1e-12)
        XCTAssertEqual(FewShot.Score(method: "x", shots: 1, top1: [0.4]).std, 0)
    }
}
