import Foundation
import Support
import Training
import XCTest

/// Meta's depth evaluation (scripts/make_depth_metric_fixtures.py runs a copy of
/// `calculate_depth_metrics`, `make_valid_mask`, eval.py's ignore/clamp order and nanmean, plus
/// BTS's Garg crop) against `DepthEvaluation` and `DepthMetrics` on the same maps.
final class DepthMetricsTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/depth_metrics.json")

    func close(_ a: Double, _ b: Double?, _ what: String, tolerance: Double = 1e-6) {
        guard let b else { return XCTFail("\(what): no reference value") }
        if b.isNaN { return XCTAssertTrue(a.isNaN, "\(what): \(a), Meta NaN") }
        XCTAssertLessThanOrEqual(abs(a - b), tolerance * max(1, abs(b)), "\(what): \(a) vs Meta \(b)")
    }

    struct Fixture: Decodable {
        struct Image: Decodable { var width: Int; var height: Int; var gt_raw: [Int]; var pred: [Float]; var metrics: [Double?] }
        struct Case: Decodable {
            var crop: String; var depth_scale: Float; var min_depth: Float; var max_depth: Float
            var images: [Image]; var mean: [String: Double?]
        }
        var names: [String]
        var cases: [Case]
    }

    func testMetricsEqualMetasOnFixtures() throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixture))
        XCTAssertEqual(fixture.names, DepthScores.names)
        var compared = 0
        for c in fixture.cases {
            let crop = try XCTUnwrap(["NYU_EIGEN": DepthEvalCrop.nyuEigen, "GARG": .garg, "FULL": .full][c.crop])
            let evaluation = try DepthEvaluation(crop: crop, minDepth: c.min_depth, maxDepth: c.max_depth)
            var metrics = DepthMetrics()
            for (i, image) in c.images.enumerated() {
                let truth = DepthMap(uncheckedWidth: image.width, height: image.height, values: image.gt_raw.map { Float($0) / c.depth_scale })
                let scores = try evaluation.scores(prediction: image.pred, truth: truth)
                for (k, reference) in image.metrics.enumerated() {
                    close(scores.values[k], reference ?? .nan, "\(crop) image \(i) \(DepthScores.names[k])")
                    compared += 1
                }
                metrics.update((name: "image\(i)", scores: scores))
            }
            let result = metrics.finish()
            for name in DepthScores.names { close(result.metrics[name]!, (c.mean[name] ?? nil) ?? .nan, "\(crop) mean \(name)") }
        }
        XCTAssertEqual(compared, 70)
    }

    func testEmptyImageIsNaNExceptSilogWhichMetaSetsToZero() throws {
        let truth = DepthMap(uncheckedWidth: 4, height: 2, values: [Float](repeating: 0, count: 8))
        let scores = try DepthEvaluation.nyu.scores(prediction: [Float](repeating: 1, count: 8), truth: truth)
        XCTAssertEqual(scores.pixels, 0)
        XCTAssertEqual(scores["silog"], 0)
        XCTAssertTrue(scores["rmse"]!.isNaN && scores["a1"]!.isNaN)
        var metrics = DepthMetrics()
        metrics.update((name: "empty", scores: scores))
        let result = metrics.finish()
        XCTAssertEqual(result.imagesWithoutValidPixels, 1)
        let json = String(decoding: try result.jsonData(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"rmse\" : null"), json)
        XCTAssertTrue(metrics.perImageCSV().hasPrefix("image,pixels,a1,a2,a3,abs_rel,rmse,log_10,rmse_log,silog,sq_rel,mae\n"))
    }

    func testScoresAreWrittenAsEvalDepthPublishesThem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("depth-scores-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let truth = DepthMap(uncheckedWidth: 2, height: 1, values: [1, 2])
        var metrics = DepthMetrics()
        metrics.update((name: "room", scores: try DepthEvaluation(crop: .full, minDepth: 0.001, maxDepth: 10).scores(prediction: [1, 4], truth: truth)))
        XCTAssertEqual(try metrics.writeScores(to: folder), ["metrics.json", "per_image.csv"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/metrics.json"))) as? [String: Any]
        XCTAssertEqual((json?["metrics"] as? [String: Double])?["mae"] ?? .nan, 1, accuracy: 1e-6)
        XCTAssertEqual(try String(contentsOfFile: folder + "/per_image.csv", encoding: .utf8), metrics.perImageCSV())
    }

    func testCropsRangesAndRefusals() throws {
        XCTAssertEqual(DepthEvalCrop.nyuEigen.window(width: 640, height: 480).rows, 45..<471)
        XCTAssertEqual(DepthEvalCrop.nyuEigen.window(width: 640, height: 480).columns, 41..<601)
        XCTAssertEqual(DepthEvalCrop.garg.window(width: 1216, height: 352).rows, 143..<349)
        XCTAssertEqual(DepthEvalCrop.garg.window(width: 1216, height: 352).columns, 43..<1172)
        XCTAssertThrowsError(try DepthEvaluation(crop: .full, minDepth: 1, maxDepth: 1))
        XCTAssertThrowsError(try DepthEvaluation(crop: .full, minDepth: -1, maxDepth: 1))
        XCTAssertThrowsError(try DepthEvaluation(crop: .full, minDepth: 0, maxDepth: .infinity))
        let truth = DepthMap(uncheckedWidth: 2, height: 1, values: [1, 2])
        XCTAssertThrowsError(try DepthEvaluation.nyu.scores(prediction: [1, .nan], truth: truth))
        XCTAssertThrowsError(try DepthEvaluation.nyu.scores(prediction: [1], truth: truth))
        // gt at max is ignored; a prediction beyond max is clamped to it.
        let evaluation = try DepthEvaluation(crop: .full, minDepth: 0.5, maxDepth: 4)
        let s = try evaluation.scores(prediction: [9, 9], truth: DepthMap(uncheckedWidth: 2, height: 1, values: [2, 4]))
        XCTAssertEqual(s.pixels, 1)
        XCTAssertEqual(s["mae"], 2)
    }
}
