import Foundation
import Images
import TestSupport
import Training
import XCTest

/// `synth depth` writes Meta's NYU layout that the reader accepts whole; `eval-depth` scores
/// depth PNGs against it, lists what it cannot pair and publishes a run folder.
final class DepthCLITests: XCTestCase {
    func testSynthDepthThenEvalDepth() throws {
        let temp = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: temp) }
        let data = temp.appendingPathComponent("nyu").path
        let synth = try CLI.run(["synth", "depth", "--out", data, "--count", "4", "--width", "40", "--height", "32", "--seed", "3"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let train = try DepthDataset.load(root: data, split: .train)
        let val = try DepthDataset.load(root: data, split: .val)
        XCTAssertEqual([train.count, val.count, train.validate().skipped.count, val.validate().skipped.count], [4, 2, 0, 0])
        XCTAssertEqual(train.layout, .nyu)
        // Deterministic: the same seed writes the same bytes.
        let again = temp.appendingPathComponent("again").path
        XCTAssertEqual(try CLI.run(["synth", "depth", "--out", again, "--count", "4", "--width", "40", "--height", "32", "--seed", "3"]).status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: data + "/synth_val_0/sync_depth_00001.png"),
                       FileManager.default.contents(atPath: again + "/synth_val_0/sync_depth_00001.png"))

        // Predictions: the truth one metre deeper for map 0, nothing for map 1, an extra file.
        let gt = data + "/synth_val_0", pred = temp.appendingPathComponent("pred").path
        let truth = try DepthMap(png: gt + "/sync_depth_00000.png", scale: 1000)
        let deeper = DepthMap(uncheckedWidth: truth.width, height: truth.height, values: truth.values.map { $0 == 0 ? 0 : $0 + 1 })
        try deeper.writePNG(to: pred + "/sync_depth_00000.png", scale: 1000)
        try deeper.writePNG(to: pred + "/extra.png", scale: 1000)
        let out = temp.appendingPathComponent("run").path
        let result = try CLI.run(["eval-depth", "--pred", pred, "--gt", gt, "--eval-crop", "full", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("mae"), result.stdout)
        XCTAssertTrue(result.stderr.contains("2 input(s) skipped"), result.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as? [String: Any]
        let values = metrics?["metrics"] as? [String: Double]
        XCTAssertEqual(values?["mae"] ?? 0, 1, accuracy: 1e-3)
        XCTAssertEqual(metrics?["images"] as? Int, 1)
        for file in ["per_image.csv", "run.json", "skipped-depth.txt"] { XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file) }
        let head = try CLI.run(["eval-depth", "--head", "h.safetensors", "--data", data])
        XCTAssertNotEqual(head.status, 0)
        XCTAssertTrue(head.stderr.contains("h.safetensors"), head.stderr)
    }
}
