import Foundation
import XCTest
@testable import Training
import Datasets
import Images

/// Keypoint matching and PCK against the PyTorch reference (scripts/make_correspondence_fixtures.py).
final class CorrespondenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Match: Decodable { var argmax: [Int]; var point: [Double]; var sourceFeature: [Float] }
        struct Case: Decodable {
            var grid: Int, dim: Int, source: [Float], target: [Float], sourceSize: [Int], targetSize: [Int]
            var window: Int?, keypoints: [[Double]], matches: [Match]
        }
        struct Pair: Decodable { var name: String, category: String, box: [Double], errors: [Double] }
        struct PCK: Decodable {
            var pairs: [Pair], categories: [String: PCKScores], overall: PCKScores, categoryMean: [String: [String: Double]]
        }
        var cases: [Case], pck: PCK
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/correspondence.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func grids(_ c: Fixture.Case) throws -> (KeypointFeatureGrid, KeypointFeatureGrid) {
        (try KeypointFeatureGrid(patchTokens: c.source, grid: c.grid, dim: c.dim, imageWidth: c.sourceSize[0], imageHeight: c.sourceSize[1]),
         try KeypointFeatureGrid(patchTokens: c.target, grid: c.grid, dim: c.dim, imageWidth: c.targetSize[0], imageHeight: c.targetSize[1]))
    }

    func testMatchingEqualsReference() throws {
        var worst = 0.0, matched = 0
        for c in Self.fixture.cases {
            let (source, target) = try grids(c)
            let all = try KeypointMatching.match(c.keypoints.map { ($0[0], $0[1]) }, source: source, target: target, window: c.window)
            for (kp, (expected, m)) in zip(c.keypoints, zip(c.matches, all)) {
                let feature = source.feature(x: kp[0], y: kp[1])
                for (a, b) in zip(feature, expected.sourceFeature) { XCTAssertEqual(a, b, accuracy: 1e-6) }
                XCTAssertEqual([m.argmax.x, m.argmax.y], expected.argmax, "keypoint \(kp) of a \(c.grid)x\(c.grid) case")
                worst = max(worst, abs(m.point.x - expected.point[0]), abs(m.point.y - expected.point[1]))
                matched += 1
            }
        }
        XCTAssertEqual(matched, 23)
        XCTAssertLessThan(worst, 1e-5, "soft-argmax coordinates differ from the reference by \(worst)")
    }

    func testPCKEqualsReference() throws {
        var accumulator = CorrespondenceAccumulator()
        for p in Self.fixture.pck.pairs {
            try accumulator.update(KeypointPairResult(name: p.name, category: p.category, predictions: p.errors.map { _ in (0, 0) },
                                                      errors: p.errors, boxSide: max(p.box[2] - p.box[0], p.box[3] - p.box[1])))
        }
        let result = try accumulator.finish()
        func same(_ a: PCKScores, _ b: PCKScores) {
            XCTAssertEqual([a.pairs, a.points], [b.pairs, b.points])
            for key in ["0.1", "0.05", "0.01"] {
                XCTAssertEqual(a.perPoint[key]!, b.perPoint[key]!, accuracy: 1e-12)
                XCTAssertEqual(a.perImage[key]!, b.perImage[key]!, accuracy: 1e-12)
            }
        }
        same(result.overall, Self.fixture.pck.overall)
        XCTAssertEqual(Set(result.categories.keys), Set(Self.fixture.pck.categories.keys))
        for (name, scores) in Self.fixture.pck.categories { same(result.categories[name]!, scores) }
        for kind in ["perPoint", "perImage"] {
            for (alpha, value) in Self.fixture.pck.categoryMean[kind]! {
                XCTAssertEqual(result.categoryMean[kind]![alpha]!, value, accuracy: 1e-12)
            }
        }
        XCTAssertEqual(result.headlineValue, Self.fixture.pck.categoryMean["perPoint"]!["0.1"]!, accuracy: 1e-12)
    }

    /// Pixel x's centre (x + 0.5) maps to grid coordinate (x + 0.5) * grid / side - 0.5: with 2
    /// patches over 32 pixels, pixel 7.5 (centre 8) sits on patch 0's centre and pixel 23.5 on patch 1's.
    func testPixelToGridConvention() throws {
        let tokens: [Float] = [1, 0, 0, 1, 0, 1, 0, 0] // patch (0,0) = (1,0), (0,1) = (0,1), bottom row zero
        let grid = try KeypointFeatureGrid(patchTokens: tokens, grid: 2, dim: 2, imageWidth: 32, imageHeight: 20)
        XCTAssertEqual(grid.side, 32)
        XCTAssertEqual(grid.gridCoordinate(7.5), 0, accuracy: 1e-12)
        XCTAssertEqual(grid.gridCoordinate(23.5), 1, accuracy: 1e-12)
        XCTAssertEqual(grid.feature(x: 7.5, y: 7.5), [1, 0])
        XCTAssertEqual(grid.feature(x: 0, y: 0), [1, 0], "left of the first centre: clamped")
        XCTAssertEqual(grid.feature(x: 31, y: 0), [0, 1], "right of the last centre: clamped")
        let half = grid.feature(x: 15.5, y: 7.5)
        XCTAssertEqual(half[0], half[1], accuracy: 1e-6, "half way between the centres, renormalised")
        XCTAssertEqual(half[0], Float(0.5).squareRoot(), accuracy: 1e-6)
        let map = try grid.similarity(to: [[0, 1]])[0]
        XCTAssertEqual(map.count, 32 * 20, "cut to the image, not the padded square")
        let m = try KeypointMatching.match([(31, 0)], source: grid, target: grid, window: nil)[0]
        XCTAssertEqual(m.argmax.x, 24, "the first pixel at or right of patch 1's centre (first on ties)")
        XCTAssertEqual(m.argmax.y, 0)
    }

    func testSoftArgmaxIsTheWeightedMeanInTheWindow() {
        // A 5x3 map: peak at (2, 1) = 1, its right neighbour 1 - 0.02 * ln 2 (weight 1/2), the rest far below.
        var map = [Float](repeating: -5, count: 15)
        map[1 * 5 + 2] = 1
        map[1 * 5 + 3] = Float(1 - 0.02 * log(2.0))
        let p = KeypointMatching.softArgmax(map, width: 5, height: 3, at: (2, 1), window: 1)
        XCTAssertEqual(p.x, (2 * 1 + 3 * 0.5) / 1.5, accuracy: 1e-5)
        XCTAssertEqual(p.y, 1, accuracy: 1e-9)
        let edge = KeypointMatching.softArgmax(map, width: 5, height: 3, at: (0, 0), window: 0)
        XCTAssertEqual(edge.x, 0)
        XCTAssertEqual(edge.y, 0)
    }

    func testPCKThresholdIsInclusiveAndUsesTheLongerBoxSide() {
        let r = KeypointPairResult(name: "p", category: "c", predictions: [(0, 0), (0, 0), (0, 0)], errors: [5, 5.0001, 0.5], boxSide: 50)
        XCTAssertEqual(r.correct(0.1), 2)
        XCTAssertEqual(r.correct(0.01), 1)
    }

    /// The generated SPair layout: deterministic for a seed, read back whole, and keypoint i of a
    /// pair on the same coloured part in both images.
    func testSyntheticSetReadsBackWithMatchingParts() throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-spair-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        XCTAssertEqual(try SyntheticData.makeCorrespondenceFolder(root: temp + "/a", pairs: 2, size: 80, seed: 5), 12)
        try SyntheticData.makeCorrespondenceFolder(root: temp + "/b", pairs: 2, size: 80, seed: 5)
        let a = try SPairData.load(root: temp + "/a", split: "val", categories: nil, limit: nil)
        XCTAssertEqual(a.pairs.count, 4)
        XCTAssertEqual(a.skipped, [])
        for pair in a.pairs {
            let name = "/PairAnnotation/val/\(pair.name).json"
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: temp + "/a" + name)), try Data(contentsOf: URL(fileURLWithPath: temp + "/b" + name)))
            let (s, t) = (try ImageDecoder.decode(path: pair.sourceImage), try ImageDecoder.decode(path: pair.targetImage))
            for (p, q) in zip(pair.sourceKeypoints, pair.targetKeypoints) {
                let (i, j) = ((Int(p.y) * s.width + Int(p.x)) * 3, (Int(q.y) * t.width + Int(q.x)) * 3)
                let distance = (0..<3).map { abs(Int(s.pixels[i + $0]) - Int(t.pixels[j + $0])) }.max() ?? 0
                XCTAssertLessThan(distance, 70, "\(pair.name): keypoint \(p) and \(q) are on different parts")
            }
        }
    }
}
