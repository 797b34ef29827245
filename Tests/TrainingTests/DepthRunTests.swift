import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support
@testable import Training
import XCTest

/// The depth run's own logic: Meta's budget scaled to the data, the depth data through the
/// shared dense store, flip test-time augmentation, and the per-image PNGs.
final class DepthRunTests: XCTestCase {
    let modelFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BackboneTests/Fixtures/models/gelu_reg4")

    func temporary() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-depth-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func testIterationsScaleWithTheDataAsMetaBudget() {
        XCTAssertEqual(DepthSettings.defaultIterations(images: 24_231, batchSize: 16), 38_400, "NYU gets Meta's 38,400 steps")
        XCTAssertEqual(DepthSettings.defaultIterations(images: 2_000, batchSize: 16), 3_170, "25.36 passes over 2,000 pairs")
        XCTAssertEqual(DepthSettings.defaultIterations(images: 16, batchSize: 16), 100, "at least 100 steps")
        XCTAssertEqual(DepthSettings.defaultIterations(images: 1_000_000, batchSize: 16), 38_400, "at most Meta's")
        var s = DepthSettings()
        XCTAssertEqual([s.warmupSteps, s.schedule.warmupSteps, s.schedule.totalSteps], [12_800, 12_800, 38_400])
        s.iterations = 300
        XCTAssertEqual(s.schedule.warmupSteps, 100)
        XCTAssertEqual(s.schedule.finalDivFactor, 1000)
        XCTAssertEqual([s.learningRate, s.betas[0], s.betas[1], s.weightDecay, s.gradientClip], [3e-4, 0.9, 0.99, 1e-4, 35])
    }

    func testModelSummaryCountsTokensAndComputeAtTheInputSize() throws {
        let model = try DINOv3Model(folder: modelFolder)
        let lines = ModelSummary.lines(model, height: 32, width: 48)
        let patches = 2 * 3, registers = model.config.numRegisterTokens
        XCTAssertTrue(lines.contains("input".padding(toLength: 22, withPad: " ", startingAt: 0) + "32x48 -> 2x3 patches"), "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("tokens") && $0.hasSuffix("= \(patches + 1 + registers)") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("parameters") && $0.contains(model.parameterCount.formatted()) })
    }

    func testADenseRunRecordsImageAndTargetOfEveryPair() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SyntheticDepth.make(root: root + "/nyu", count: 3, valCount: 2, width: 48, height: 40)
        let train = try DepthDataset.load(root: root + "/nyu", split: .train), val = try DepthDataset.load(root: root + "/nyu", split: .val)
        let record = RunRecord.DataRecord.dense(root: train.root, [("train", train), ("val", val), ("none", nil)])
        XCTAssertEqual(record.splits.keys.sorted(), ["train", "val"], "a missing split is left out")
        XCTAssertEqual([record.splits["train"]?.files, record.splits["val"]?.files], [6, 4])
        let listed = RunRecord.Listing(paths: train.samples.flatMap { [$0.image, $0.depth] })
        XCTAssertEqual(record.splits["train"]?.fingerprint, listed.fingerprint)
        XCTAssertNotEqual(record.splits["val"]?.fingerprint, listed.fingerprint)
    }

    func testDepthDataGoesThroughTheDenseStore() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SyntheticDepth.make(root: root + "/nyu", count: 3, valCount: 1, width: 48, height: 40)
        let data = try DepthDataset.load(root: root + "/nyu", split: .train)
        let model = try DINOv3Model(folder: modelFolder)
        let recipe = FeatureRecipe.dense(resolution: 32)
        let plain = try DenseStore.obtain(model: model, dataset: data, recipe: recipe, flip: true, batchSize: 4, cacheFolder: nil, scratchFolder: root)
        XCTAssertEqual([plain.count, plain.labelHeight, plain.labelWidth, plain.gridHeight], [6, 32, 32, 2])
        let batch = try plain.batch([0, 1], of: Float.self)
        XCTAssertTrue(batch.targets.contains { $0 > 0.5 } && batch.targets.allSatisfy { $0 >= 0 && $0 < 10 }, "depths in metres")
        let views = AugmentedDenseViews<DepthMap>(augmentation: DepthAugmentation(size: 32), views: 2, seed: 1)
        let augmented = try DenseStore.obtain(model: model, dataset: data, recipe: recipe, flip: false, augment: views, batchSize: 4,
                                              cacheFolder: root + "/cache", scratchFolder: root)
        XCTAssertEqual([augmented.count, augmented.labelHeight, augmented.labelWidth], [6, 32, 32])
        // The depth scale gives the targets their meaning: another scale, another store.
        var scaled = data
        scaled.depthScale = 256
        XCTAssertNotEqual(DenseStore.key(model: model, dataset: data, recipe: recipe, flip: false),
                          DenseStore.key(model: model, dataset: scaled, recipe: recipe, flip: false))
        var oblong = DepthAugmentation(size: 32)
        oblong.cropWidth = 48
        var random = SeededRandom(seed: 0)
        XCTAssertThrowsError(try oblong.view(image: try RGBImage(width: 48, height: 40, pixels: [UInt8](repeating: 9, count: 48 * 40 * 3)),
                                             target: try data.loadTarget(0), preprocessing: Preprocessing(), random: &random))
    }

    func testFlipAveragedOutputsAreTheMeanOfTheImageAndItsMirror() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SyntheticDepth.make(root: root + "/nyu", count: 3, valCount: 1, width: 64, height: 48)
        let paths = try DepthDataset.load(root: root + "/nyu", split: .train).samples.map(\.image) + [root + "/missing.jpg"]
        let model = try DINOv3Model(folder: modelFolder)
        var random = SeededRandom(seed: 3)
        let metadata = HeadMetadata(kind: .depth, featureRecipe: FeatureRecipe.dense(resolution: 32).key, backboneFingerprint: model.fingerprint)
        let head = try DepthHead(channels: model.config.hiddenSize, recipe: DepthHeadRecipe(), metadata: metadata, random: &random)
        for inference in try [DenseInference.whole, .slide(SlidingWindow(crop: 32, stride: 16))] {
            func outputs(mirrored: Bool? = nil) throws -> (values: [Int: [Float]], skipped: [Int], size: (Int, Int)) {
                var values: [Int: [Float]] = [:], skipped: [Int] = [], size = (0, 0)
                let record = { (i: Int, o: [Float], h: Int, w: Int) in values[i] = o; size = (h, w) }
                if let mirrored {
                    try inference.run(head: head, model: model, paths: paths, mirrored: mirrored, onSkip: { skipped.append($0.index ?? -1) }, record)
                } else {
                    try inference.run(head: head, model: model, paths: paths, batchSize: 2, flipAveraged: true, onSkip: { skipped.append($0.index ?? -1) }, record)
                }
                return (values, skipped, size)
            }
            let (plain, mirror, averaged) = (try outputs(mirrored: false), try outputs(mirrored: true), try outputs())
            XCTAssertEqual(averaged.skipped, [3], "the missing image once, at its place")
            XCTAssertEqual(averaged.values.keys.sorted(), [0, 1, 2])
            for i in 0..<3 {
                let back = DenseInference.mirrored(mirror.values[i]!, height: mirror.size.0, width: mirror.size.1, channels: 1)
                XCTAssertNotEqual(back, plain.values[i]!, "the mirror image predicts otherwise")
                XCTAssertEqual(averaged.values[i]!, zip(plain.values[i]!, back).map { ($0 + $1) / 2 }, "\(inference.name)")
            }
        }
        XCTAssertEqual(DenseInference.mirrored([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], height: 2, width: 3, channels: 2),
                       [5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8])
    }

    func testDepthPNGsHoldMillimetresAndRefuseNonFiniteDepth() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let depth = DepthMap(uncheckedWidth: 3, height: 2, values: [0.5, 1.2345, 2, 3.0004, 9.9, 70])
        let result = try ImageDepth.write(depth, stem: root + "/a/b")
        XCTAssertEqual(result.files, [root + "/a/b.depth.png", root + "/a/b.depth16.png"])
        XCTAssertEqual(try GreyPNG16.decode(path: root + "/a/b.depth16.png").samples, [500, 1235, 2000, 3000, 9900, 65535])
        let colours = try ImageDecoder.decode(path: root + "/a/b.depth.png")
        XCTAssertEqual([colours.width, colours.height], [3, 2])
        XCTAssertEqual([result.nearest, result.farthest], [0.5, 70])
        for bad in [Float.nan, .infinity] {
            var broken = depth
            broken.values[2] = bad
            XCTAssertThrowsError(try ImageDepth.write(broken, stem: root + "/c"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/c.depth.png") || FileManager.default.fileExists(atPath: root + "/c.depth16.png"))
        }
    }
}
