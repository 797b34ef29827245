import Backbone
import Foundation
import Evaluation
import Heads
@testable import Training
import XCTest
import Support
import Images
import Plots

/// PCA, k-means, nearest mask resizing and the overlay renderer.
final class DenseTests: XCTestCase {
    func testPCAFindsTheDirectionOfLargestVariance() throws {
        var random = SeededRandom(seed: 1)
        let n = 400, dim = 6
        var x = [Float](repeating: 0, count: n * dim)
        for i in 0..<n {
            let t = random.normal() * 5   // large variance along (1, 1, 0, ...)/sqrt(2)
            for d in 0..<dim { x[i * dim + d] = random.normal() * 0.1 }
            x[i * dim] += t
            x[i * dim + 1] += t
        }
        let pca = try PatchPCA(features: x, count: n, dim: dim, k: 3)
        let c = Array(pca.components[0..<dim])
        XCTAssertEqual(abs(c[0]), 1 / Float(2).squareRoot(), accuracy: 0.01)
        XCTAssertEqual(abs(c[1]), 1 / Float(2).squareRoot(), accuracy: 0.01)
        XCTAssertGreaterThan(pca.variances[0], 40)
        XCTAssertLessThan(pca.variances[1], 0.05)
        // Whitened projections have unit variance along the first component.
        let p = pca.project(x, count: n)
        let variance = (0..<n).map { Double(p[$0 * 3] * p[$0 * 3]) }.reduce(0, +) / Double(n - 1)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
        XCTAssertEqual(pca.colours(x, count: n).count, n * 3)
    }

    func testKMeansSeparatesDistinctDirections() throws {
        var random = SeededRandom(seed: 2)
        let dim = 5, perCluster = 30
        var x: [Float] = [], truth: [Int] = []
        for c in 0..<3 {
            for _ in 0..<perCluster {
                for d in 0..<dim { x.append((d == c ? 5 : 0) + random.normal() * 0.3) }
                truth.append(c)
            }
        }
        let km = try KMeans(vectors: x, count: 3 * perCluster, dim: dim, k: 3, seed: 0)
        // Each true cluster maps to exactly one k-means cluster.
        for c in 0..<3 {
            let assigned = Set((0..<perCluster).map { km.assignments[c * perCluster + $0] })
            XCTAssertEqual(assigned.count, 1)
        }
        XCTAssertEqual(Set(km.assignments).count, 3)
        XCTAssertThrowsError(try KMeans(vectors: [1, 2], count: 1, dim: 2, k: 2))
    }

    func testNearestResizeMatchesTorchSemantics() throws {
        // torch.nn.functional.interpolate(mode="nearest"): src = floor(dst * in / out).
        let mask = try LabelMask(width: 3, height: 2, labels: [0, 1, 2, 3, 4, 5])
        let out = mask.resizedNearest(width: 5, height: 4)
        XCTAssertEqual(out, [0, 0, 1, 1, 2,
                             0, 0, 1, 1, 2,
                             3, 3, 4, 4, 5,
                             3, 3, 4, 4, 5])
    }

    func testClassAreasAndOverlayLegend() throws {
        let mask: [UInt8] = [0, 0, 1, 255]
        let areas = SegmentationRendering.classAreas(mask, classes: 3)
        XCTAssertEqual(areas.map(\.label), [0, 1])
        XCTAssertEqual(areas[0].fraction, 0.5)
        let image = try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 100, count: 12))
        let palette: [UInt8] = [200, 0, 0, 0, 200, 0, 0, 0, 200]
        let overlay = try SegmentationRendering.overlay(image: image, mask: mask, palette: palette, classNames: ["a", "b", "c"])
        XCTAssertGreaterThan(overlay.width, 2)
        XCTAssertEqual(Array(overlay.pixels[0..<3]), [150, 50, 50])  // half image, half class colour
        let ignoredPixel = (1 * overlay.width + 1) * 3
        XCTAssertEqual(Array(overlay.pixels[ignoredPixel..<(ignoredPixel + 3)]), [100, 100, 100])
    }

    func testSegmentationScoresKeepEachRowWithItsPathsAsTyped() throws {
        var scores = try SegmentationScores(classNames: ["a", "b"], ignoreIndex: 255)
        let root = FileSystem.absolute("typed-root")
        try scores.update(([0, 1, 1, 0], [0, 0, 1, 255], root + "/images/x.jpg", root + "/masks/x.png"))
        XCTAssertEqual(scores.finish().aAcc, 2.0 / 3)
        let spelled = scores.spelled(below: [nil, "elsewhere", "typed-root"]).perImage
        XCTAssertEqual(spelled.map(\.image), ["typed-root/images/x.jpg"])
        XCTAssertEqual(spelled.map(\.mask), ["typed-root/masks/x.png"])
        XCTAssertEqual(scores.perImage.map(\.image), [root + "/images/x.jpg"], "spelled leaves the scores themselves alone")
        let folder = NSTemporaryDirectory() + "dense-scores-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertEqual(try scores.writeScores(to: folder), ["metrics.json", "per_image.csv", "confusion.csv"])
    }
}

/// train-seg's default budget: Meta's passes over the data, within bounds.
final class SegmentationBudgetTests: XCTestCase {
    func testDefaultStepsFollowTheDataSize() {
        // ADE20K itself gets Meta's 40,000 steps of 16.
        XCTAssertEqual(SegmentationSettings.defaultIterations(images: 20_210, batchSize: 16), 40_000)
        // 1,000 images: 40,000 x 16 / 20,210 = 31.67 passes = 1,979.2 steps of 16, rounded up.
        XCTAssertEqual(SegmentationSettings.defaultIterations(images: 1_000, batchSize: 16), 1_980)
        // The same passes in batches of 8 take twice the steps.
        XCTAssertEqual(SegmentationSettings.defaultIterations(images: 1_000, batchSize: 8), 3_959)
        // Tiny sets get at least 100 steps; huge ones at most Meta's 40,000.
        XCTAssertEqual(SegmentationSettings.defaultIterations(images: 40, batchSize: 16), 100)
        XCTAssertEqual(SegmentationSettings.defaultIterations(images: 1_000_000, batchSize: 16), 40_000)
    }
}
