import ArgumentParser
@testable import dinoprobe
import Heads
import Training
import XCTest

/// The bridge from option groups to the library's settings: the options are the settings'
/// fields, their defaults the library's, the library's ranges refused with the flag's name.
final class SettingsOptionsTests: XCTestCase {
    func testUntouchedOptionsGiveTheLibrarysDefaults() throws {
        XCTAssertEqual(try LinearProbeOptions.parse([]).settings, LinearProbeSettings())
        XCTAssertEqual(try LogisticRegressionOptions.parse([]).settings, LogisticRegressionSettings())
        XCTAssertEqual(try SegmentationOptions.parse([]).settings, SegmentationSettings())
        XCTAssertEqual(try DepthOptions.parse([]).settings, DepthSettings())
        XCTAssertEqual(try RetrievalOptions.parse([]).settings, RetrievalSettings())
        XCTAssertEqual(try PropagationOptions.parse([]).settings, PropagationSettings())
        XCTAssertEqual(try CorrespondenceOptions.parse([]).settings, CorrespondenceSettings())
        XCTAssertEqual(try KNNOptions.parse([]).settings, KNNSettings())
        XCTAssertEqual(try FewShotOptions.parse([]).settings, FewShotSettings())
    }

    func testEveryOptionReachesItsSetting() throws {
        var linear = LinearProbeSettings()
        (linear.learningRates, linear.iterationsPerEpoch, linear.epochs, linear.optimizer, linear.seed) = ([0.01, 0.1, 1], 0, 3, .adamw, 7)
        XCTAssertEqual(try LinearProbeOptions.parse(["--lrs", "0.01,0.1", "--lrs", "1", "--iters-per-epoch", "0", "--epochs", "3",
                                                     "--optimizer", "adamw", "--seed", "7"]).settings, linear)
        let logreg = try LogisticRegressionOptions.parse(["--cs", "1,10", "--max-iter", "50", "--tol", "1e-6", "--no-warm-start"]).settings
        XCTAssertEqual([logreg.cValues, [Double(logreg.solver.maxIterations), logreg.solver.gradientTolerance]], [[1, 10], [50, 1e-6]])
        XCTAssertFalse(logreg.warmStart)
        let depth = try DepthOptions.parse(["--bins", "64", "--bins-strategy", "log", "--clip", "2", "--lr", "0.5"]).settings(trainImages: 10)
        XCTAssertEqual([depth.head.bins, depth.iterations], [64, DepthSettings.defaultIterations(images: 10, batchSize: 16)])
        XCTAssertEqual([depth.gradientClip, depth.learningRate, depth.head.maxDepth], [2, 0.5, DepthHeadRecipe().maxDepth])
        let pairs = try CorrespondenceOptions.parse(["--categories", "cat,dog", "--soft-argmax", "4", "--split", "val"]).settings
        XCTAssertEqual(pairs.categories, ["cat", "dog"])
        XCTAssertEqual([pairs.softArgmaxWindow, pairs.limit], [4, nil])
        XCTAssertEqual(try SegmentationOptions.parse(["--iters", "500"]).settings(trainImages: 10).iterations, 500)
        XCTAssertEqual(try KNNOptions.parse(["--k", "1", "--k", "5,7", "--temperature", "0.5"]).settings.k, [1, 5, 7])
        let fewShot = try FewShotOptions.parse(["--shots", "0.5,3", "--no-logreg", "--iters", "20"]).settings
        XCTAssertEqual([fewShot.shots, [Double(fewShot.linearProbe.iterationsPerEpoch)]], [[0.5, 3], [20]])
        XCTAssertFalse(fewShot.logreg)
    }

    func testARangeViolationIsRefusedWithTheFlagsName() {
        let cases: [(ParsableArguments.Type, [String], String)] = [
            (LinearProbeOptions.self, ["--batch-size", "0"], "--batch-size is 0; it must be in 1...1000000"),
            (LinearProbeOptions.self, ["--lrs", "0.1,nan"], "--lrs is nan"),
            (LinearProbeOptions.self, ["--epochs", "1000", "--iters-per-epoch", "10000000"], "--epochs x --iters-per-epoch is 10000000000"),
            (LogisticRegressionOptions.self, ["--max-iter", "0"], "--max-iter is 0"),
            (SegmentationOptions.self, ["--iters", "100", "--warmup", "101"], "--warmup is 101; it must be in 0...100"),
            (DepthOptions.self, ["--bins", "1"], "--bins is 1"),
            (CorrespondenceOptions.self, ["--soft-argmax", "999"], "--soft-argmax is 999"),
            (CorrespondenceOptions.self, ["--split", "train"], "--split must be one of trn, val, test"),
            (PropagationOptions.self, ["--scale-size", "100"], "--scale-size is 100; it must be a multiple of 16"),
            (RetrievalOptions.self, ["--scales", "1,9"], "--scales is 9.0"),
            (KNNOptions.self, ["--k", "10,0"], "--k is 0"),
            (FewShotOptions.self, ["--iters", "0"], "--iters is 0"),
        ]
        for (type, arguments, message) in cases {
            XCTAssertThrowsError(try type.parse(arguments), arguments.joined(separator: " ")) {
                XCTAssertTrue(type.message(for: $0).contains(message), "\(arguments): \(type.message(for: $0))")
            }
        }
    }
}
