import Foundation
@testable import Heads
import Images
import Support
import XCTest

/// Augmented views train the heads only for images kept for fitting: the held-out images'
/// views never leak into training, and selection uses their plain features.
final class AugmentedViewsTests: XCTestCase {
    func split(count: Int, seed: UInt64) throws -> FeatureSplit {
        var random = SeededRandom(seed: seed)
        var features = TokenFeatures(dim: 4, blocks: 1)
        var labels: [Int] = []
        for i in 0..<count {
            labels.append(i % 2)
            let centre: Float = i % 2 == 0 ? 1 : -1
            try features.append(cls: (0..<4).map { _ in centre + 0.3 * random.normal() }, meanPatch: (0..<4).map { _ in random.normal() })
        }
        return try FeatureSplit(features: features, labels: labels, paths: (0..<count).map { "img\($0).png" }, classNames: ["a", "b"],
                                source: FeatureSource(backboneID: "x", backboneFingerprint: "f", preprocessing: Preprocessing()))
    }

    func testOnlyViewsOfKeptImagesTrainAndSelectionStaysOnPlainFeatures() throws {
        let train = try split(count: 40, seed: 1), val = try split(count: 10, seed: 2)
        // Three views per training image: the image's own features plus noise.
        var views = TokenFeatures(dim: 4, blocks: 1)
        var image: [Int] = []
        var random = SeededRandom(seed: 3)
        for i in 0..<train.count {
            for _ in 0..<3 {
                try views.append(cls: train.features.cls[(i * 4)..<(i * 4 + 4)].map { $0 + 0.05 * random.normal() },
                                 meanPatch: train.features.meanPatch[(i * 4)..<(i * 4 + 4)].map { $0 })
                image.append(i)
            }
        }
        let augmented = try AugmentedViews(features: views, image: image)
        var settings = LinearProbeSettings()
        (settings.epochs, settings.iterationsPerEpoch, settings.batchSize) = (2, 10, 8)
        let plain = try LinearProbe.run(train: train, val: val, settings: settings)
        let outcome = try LinearProbe.run(train: train, val: val, settings: settings, augmented: augmented)
        // Hold-out: 10% of each class of 20 = 2 per class; the rest (36 images) train, 3 views each.
        XCTAssertEqual(plain.selectionSamples, 4)
        XCTAssertEqual(outcome.selectionSamples, 4)
        XCTAssertEqual(outcome.trainSamples, 36 * 3)
        let holdout = Set(try train.labelled(.clsAvgpool, blocks: 1).stratifiedSplit(fraction: 0.1, seed: settings.seed).holdout)
        let inputs = try ProbeInputs(train: train, val: val, tokens: .clsAvgpool, blocks: 1, selection: .holdout(fraction: 0.1),
                                     seed: settings.seed, augmented: augmented)
        let fittingValues = Set(stride(from: 0, to: inputs.fitting.values.count, by: inputs.fitting.width).map { inputs.fitting.values[$0] })
        for i in holdout {
            for v in 0..<3 {
                XCTAssertFalse(fittingValues.contains(views.cls[(i * 3 + v) * 4]), "a view of held-out image \(i) trains")
            }
        }
        XCTAssertThrowsError(try AugmentedViews(features: views, image: [0]))
        XCTAssertThrowsError(try LinearProbe.run(train: train, val: val, settings: settings,
                                                 augmented: try AugmentedViews(features: views, image: image.map { $0 + 100 })))
    }
}
