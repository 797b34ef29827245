import Foundation
import Images
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

    /// Each try's logistic-regression score is Meta's C path on that subset's CLS features, C
    /// chosen on val: the same number the path gives when run by hand.
    func testLogisticRegressionScoresAreThePathOnEachSubset() throws {
        func split(_ count: Int, seed: UInt64) throws -> FeatureSplit {
            var random = SeededRandom(seed: seed)
            var features = TokenFeatures(dim: 4, blocks: 1)
            var labels: [Int] = []
            for i in 0..<count {
                labels.append(i % 3)
                let centre = Float(i % 3) - 1
                try features.append(cls: (0..<4).map { _ in centre + 0.8 * random.normal() }, meanPatch: (0..<4).map { _ in random.normal() })
            }
            return try FeatureSplit(features: features, labels: labels, paths: (0..<count).map { "img\($0).png" }, classNames: ["a", "b", "c"],
                                    source: FeatureSource(backboneID: "x", backboneFingerprint: "f", preprocessing: Preprocessing()))
        }
        let train = try split(30, seed: 1), val = try split(15, seed: 2)
        var settings = LinearProbeSettings()
        (settings.epochs, settings.iterationsPerEpoch, settings.batchSize) = (1, 20, 8)
        var logistic = LogisticRegressionSettings()
        logistic.cValues = [1e-3, 1, 100]
        let scores = try FewShot.run(train: train, val: val, shots: [2], tries: 2, settings: settings, logistic: logistic, ks: [3])
        XCTAssertEqual(scores.map(\.method), ["linear", "logreg", "knn k=3"])
        let subsets = try FewShot.subsets(labels: train.labels, shots: 2, tries: 2)
        let trainRows = try train.labelled(.cls, blocks: 1), valRows = try val.labelled(.cls, blocks: 1)
        for (t, subset) in subsets.enumerated() {
            let (path, _) = try LogisticRegressionProbe.path(trainRows.rows(subset), selection: valRows, classes: 3, settings: logistic)
            XCTAssertEqual(scores[1].top1[t], path.points[path.bestIndex].selectionAccuracy, "try \(t)")
        }
        // k is named as used: 20 neighbours asked of 2 shots x 3 classes = 6 images.
        XCTAssertEqual(try FewShot.run(train: train, val: val, shots: [2], tries: 1, settings: settings, logistic: nil, ks: [3, 20]).map(\.method),
                       ["linear", "knn k=3", "knn k=6 (20 asked)"])
    }

    func testScoresAggregateMeanAndSampleStd() {
        let s = FewShot.Score(method: "linear", shots: 1, top1: [0.5, 0.7, 0.9])
        XCTAssertEqual(s.mean, 0.7, accuracy: 1e-12)
        XCTAssertEqual(s.std, 0.2, accuracy: 1e-12)
        XCTAssertEqual(FewShot.Score(method: "x", shots: 1, top1: [0.4]).std, 0)
    }
}
