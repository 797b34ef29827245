import Evaluation
import Foundation
import Images
import XCTest

/// J and F against davis2017-evaluation run on the same masks (scripts/make_propagation_fixtures.py):
/// per frame, per object (mean, recall, decay) and the global figures, to 1e-6.
final class VideoSegmentationMetricsTests: XCTestCase {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/davis").path

    func testMatchesDavis2017Evaluation() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/davis.json"))) as! [String: Any]
        let sequences = json["sequences"] as! [String: [[String: Any]]]
        var all: [VideoObjectScores] = [], worst = 0.0
        func check(_ ours: [Double], _ theirs: Any?) {
            let expected = theirs as! [Double]
            XCTAssertEqual(ours.count, expected.count)
            for (a, b) in zip(ours, expected) { worst = max(worst, abs(a - b)) }
        }
        for name in sequences.keys.sorted() {
            let frames = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/gt/\(name)").sorted()
            let first = try MaskDecoder.decode(path: "\(folder)/gt/\(name)/\(frames[0])")
            var scorer = VideoObjectScorer(video: name, objects: VideoObjectScorer.objects(inFirstAnnotation: first.labels))
            for frame in frames.dropFirst().dropLast() {
                let gt = try MaskDecoder.decode(path: "\(folder)/gt/\(name)/\(frame)")
                let pred = try MaskDecoder.decode(path: "\(folder)/pred/\(name)/\(frame)")
                scorer.add(annotation: gt.labels, prediction: pred.labels, width: gt.width, height: gt.height)
            }
            let scores = try XCTUnwrap(scorer.finish())
            XCTAssertEqual(scores.count, sequences[name]!.count, name)
            for (ours, theirs) in zip(scores, sequences[name]!) {
                check(ours.framesJ, theirs["J"]); check(ours.framesF, theirs["F"])
                check([ours.j.mean, ours.j.recall, ours.j.decay], theirs["J_stats"])
                check([ours.f.mean, ours.f.recall, ours.f.decay], theirs["F_stats"])
            }
            all += scores
        }
        let global = json["global"] as! [String: Double]
        let summary = try XCTUnwrap(VideoSegmentationSummary(all))
        check([summary.jfMean, summary.jMean, summary.jRecall, summary.jDecay, summary.fMean, summary.fRecall, summary.fDecay],
              ["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"].map { global[$0]! })
        XCTAssertLessThan(worst, 1e-6)
        print("J&F parity: max |diff| \(worst) over \(all.count) objects, J&F-Mean \(summary.jfMean)")
    }

    func testEdgeCases() {
        XCTAssertEqual(VideoSegmentationMetrics.jaccard(annotation: [false, false], segmentation: [false, false]), 1)
        XCTAssertEqual(VideoSegmentationMetrics.boundaryF(segmentation: [false, false, false, false], annotation: [true, true, false, false],
                                                          width: 2, height: 2), 0)
        let s = VideoSegmentationMetrics.Statistics([1, 1, 0.2, 0.2, 0.2])
        XCTAssertEqual(s.recall, 0.4, accuracy: 1e-12)
        XCTAssertEqual(s.decay, 0.8, accuracy: 1e-12)  // bins [0, 1], [1, 2], [2, 3], [3, 4]
        XCTAssertTrue(VideoSegmentationMetrics.Statistics([Double](repeating: 0.5, count: 300)).decay.isNaN, "uint8 ids wrap, as numpy's")
    }
}
