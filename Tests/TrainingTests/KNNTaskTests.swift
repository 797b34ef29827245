import Foundation
import Heads
import Images
@testable import Training
import XCTest

/// The k-NN task as the CLI drives it: the blocks it caches, and its settings applied to two splits.
final class KNNTaskTests: XCTestCase {
    func testItCachesTheLastFourBlocksAndScoresEachKOfItsSettings() throws {
        XCTAssertEqual(KNNTask.storedLayers(depth: 12), [8, 9, 10, 11])
        XCTAssertEqual(KNNTask.storedLayers(depth: 2), [0, 1])
        let source = FeatureSource(backboneID: "tiny", backboneFingerprint: "fp", preprocessing: Preprocessing(size: 32))
        func split(_ cls: [Float], _ labels: [Int]) throws -> FeatureSplit {
            try FeatureSplit(features: TokenFeatures(count: labels.count, dim: 2, blocks: 1, cls: cls, meanPatch: Array(repeating: 0, count: cls.count)),
                             labels: labels, paths: labels.indices.map { "/d/\($0).jpg" }, classNames: ["a", "b"], source: source)
        }
        let train = try split([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9], [0, 0, 1, 1])
        let val = try split([1, 0.05, 0.05, 1], [0, 1])
        var settings = KNNSettings()
        settings.k = [1, 3]
        let (scores, results) = try KNNTask.evaluate(train: train, val: val, settings: settings)
        XCTAssertEqual(scores.map(\.k), [1, 3])
        XCTAssertEqual(results.map(\.k), [1, 3])
        XCTAssertEqual(results[0].metrics.top1, 1, accuracy: 1e-6)
    }
}
