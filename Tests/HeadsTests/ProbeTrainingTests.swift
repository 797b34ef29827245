import Foundation
import Evaluation
@testable import Heads
import XCTest
import Support

/// The linear-probe loop: determinism, the hold-out split, rate selection, feature recipes.
final class ProbeTrainingTests: XCTestCase {
    /// Three overlapping Gaussian classes in 8 dimensions.
    func data(count: Int, seed: UInt64) -> LabelledFeatures {
        var random = SeededRandom(seed: seed)
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            let c = i % 3
            labels.append(c)
            for d in 0..<8 { values.append(random.normal() + (d == c ? 2 : 0)) }
        }
        return LabelledFeatures(values: values, labels: labels, width: 8)
    }

    func settings(seed: UInt64) -> LinearProbeSettings {
        var s = LinearProbeSettings()
        s.epochs = 3
        s.iterationsPerEpoch = 0  // one pass per epoch (Meta's default is 1250 steps)
        s.batchSize = 16
        s.seed = seed
        return s
    }

    func testSameSeedGivesIdenticalHeadsAndAnotherSeedDoesNot() throws {
        let train = data(count: 120, seed: 1), selection = data(count: 30, seed: 2)
        let meta = HeadMetadata(kind: .classifier)
        let a = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(seed: 5), metadata: meta)
        let b = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(seed: 5), metadata: meta)
        let c = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(seed: 6), metadata: meta)
        XCTAssertEqual(a.grid.weight, b.grid.weight)
        XCTAssertEqual(a.result.selectionAccuracy, b.result.selectionAccuracy)
        XCTAssertNotEqual(a.grid.weight, c.grid.weight)
        XCTAssertEqual(a.result.steps, 3 * 8)  // ceil(120 / 16) steps per epoch
        XCTAssertEqual(a.result.selectionAccuracy.count, 13)
    }

    func testBestRateHasTheHighestSelectionAccuracy() throws {
        let train = data(count: 150, seed: 3), selection = data(count: 60, seed: 4)
        let r = try LinearProbe.train(train, selection: selection, classes: 3, settings: settings(seed: 0),
                                      metadata: HeadMetadata(kind: .classifier)).result
        XCTAssertEqual(r.selectionAccuracy[r.bestIndex], r.selectionAccuracy.max())
        XCTAssertGreaterThan(r.selectionAccuracy[r.bestIndex], 0.7)
        XCTAssertEqual(r.scaledLearningRates[0], 1e-5 * 16 / 256, accuracy: 1e-12)
    }

    func testStratifiedHoldoutKeepsEveryClassAndIsDeterministic() {
        let d = data(count: 90, seed: 1)
        let s1 = d.stratifiedSplit(fraction: 0.1, seed: 3), s2 = d.stratifiedSplit(fraction: 0.1, seed: 3)
        XCTAssertEqual(s1.holdout, s2.holdout)
        XCTAssertEqual(s1.holdout.count, 9)
        XCTAssertEqual(Set(s1.holdout.map { d.labels[$0] }), [0, 1, 2])
        XCTAssertEqual(Set(s1.keep).intersection(s1.holdout), [])
        XCTAssertEqual(s1.keep.count + s1.holdout.count, 90)
    }

    func testRecipesConcatenateTheRightTokens() throws {
        // 1 image, 4 blocks, D = 2: CLS of block b is [b, b], mean patch of block b is [10b, 10b].
        let features = try TokenFeatures(count: 1, dim: 2, blocks: 4, cls: [0, 0, 1, 1, 2, 2, 3, 3],
                                         meanPatch: [0, 0, 10, 10, 20, 20, 30, 30])
        XCTAssertEqual(try features.vectors(.cls, blocks: 1).values, [3, 3])
        XCTAssertEqual(try features.vectors(.clsAvgpool, blocks: 1).values, [3, 3, 30, 30])
        XCTAssertEqual(try features.vectors(.cls, blocks: 4).values, [0, 0, 1, 1, 2, 2, 3, 3])
        XCTAssertEqual(try features.vectors(.clsAvgpool, blocks: 4).values, [0, 0, 1, 1, 2, 2, 3, 3, 30, 30])
        XCTAssertThrowsError(try features.vectors(.cls, blocks: 5))
        XCTAssertEqual(FeatureRecipe(tokens: .clsAvgpool, blocks: 4).width(dim: 384), 5 * 384)
    }
}
