import Foundation
import Support
import Evaluation
@testable import Heads
import XCTest

/// KNNClassifier against a naive O(n^2) reference and a hand-checkable case.
final class KNNTests: XCTestCase {
    /// Straightforward reference: normalise, all similarities, full sort (similarity desc,
    /// index asc), softmax over the first k, summed per class.
    func reference(train: [Float], labels: [Int], queries: [Float], dim: Int, classCount: Int, k: Int, t: Double) -> [[Double]] {
        func normalise(_ x: [Float]) -> [[Double]] {
            stride(from: 0, to: x.count, by: dim).map { s in
                let row = (0..<dim).map { Double(x[s + $0]) }
                let norm = max(row.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12)
                return row.map { $0 / norm }
            }
        }
        let tr = normalise(train), qs = normalise(queries)
        return qs.map { q in
            let sims = tr.map { zip($0, q).map(*).reduce(0, +) }
            let order = sims.indices.sorted { sims[$0] != sims[$1] ? sims[$0] > sims[$1] : $0 < $1 }
            let top = order.prefix(min(k, tr.count))
            let weights = top.map { exp((sims[$0] - sims[top.first!]) / t) }
            let total = weights.reduce(0, +)
            var scores = [Double](repeating: 0, count: classCount)
            for (i, w) in zip(top, weights) { scores[labels[i]] += w / total }
            return scores
        }
    }

    func testMatchesNaiveReferenceOnRandomData() throws {
        var rng = SeededRandom(seed: 42)
        let dim = 16, classCount = 7, nTrain = 300, nQuery = 70
        // Class-dependent means so the votes are not uniform.
        let means = (0..<classCount).map { _ in (0..<dim).map { _ in rng.normal() } }
        func sample(_ c: Int) -> [Float] { means[c].map { $0 + 1.5 * rng.normal() } }
        let trainLabels = (0..<nTrain).map { _ in Int.random(in: 0..<classCount, using: &rng) }
        let train = trainLabels.flatMap(sample)
        let queryLabels = (0..<nQuery).map { _ in Int.random(in: 0..<classCount, using: &rng) }
        let queries = queryLabels.flatMap(sample)
        let ks = [10, 20, 100, 200, 500]
        let knn = try KNNClassifier(trainFeatures: train, trainLabels: trainLabels, dim: dim, classCount: classCount,
                                    ks: ks, queryChunk: 32) // 32 + 32 + 6 query rows
        XCTAssertEqual(knn.queryChunk, 32)
        let all = try knn.classScores(queries: queries)
        XCTAssertEqual(all.map(\.k), ks)
        XCTAssertEqual(all.map(\.effectiveK), [10, 20, 100, 200, 300])
        for result in all {
            let expected = reference(train: train, labels: trainLabels, queries: queries, dim: dim,
                                     classCount: classCount, k: result.k, t: 0.07)
            XCTAssertEqual(result.scores.count, nQuery * classCount)
            for i in 0..<nQuery {
                let row = Array(result.scores[(i * classCount)..<((i + 1) * classCount)])
                for c in 0..<classCount {
                    XCTAssertEqual(Double(row[c]), expected[i][c], accuracy: 1e-5, "k \(result.k) query \(i) class \(c)")
                }
                let refPrediction = expected[i].indices.max { expected[i][$0] < expected[i][$1] || (expected[i][$0] == expected[i][$1] && $0 > $1) }
                let prediction = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }
                XCTAssertEqual(prediction, refPrediction, "k \(result.k) query \(i)")
            }
        }
        let names = (0..<classCount).map { "c\($0)" }
        let evaluated = try knn.evaluate(queries: queries, labels: queryLabels, classNames: names)
        XCTAssertEqual(evaluated.count, ks.count)
        XCTAssertNotNil(evaluated[0].metrics.top5)
        XCTAssertGreaterThan(evaluated[0].metrics.top1, 1.0 / Double(classCount))
    }

    func testHandCheckableCase() throws {
        // Train: (1,0) class 0, (0,1) class 1, (1,1) class 1, (-1,0) class 2. Query (2,0):
        // similarities 1, 0, 1/sqrt(2), -1.
        let train: [Float] = [1, 0, 0, 1, 1, 1, -1, 0]
        let knn = try KNNClassifier(trainFeatures: train, trainLabels: [0, 1, 1, 2], dim: 2, classCount: 3,
                                    ks: [1, 2, 10], temperature: 0.5)
        let r = try knn.classScores(queries: [2, 0])
        XCTAssertEqual(r[0].scores, [1, 0, 0])
        // k = 2: neighbours 0 (sim 1) and 2 (sim 0.7071): weights 1 : exp(-(1 - 0.7071) / 0.5).
        let w = exp(-(1 - 0.5.squareRoot()) / 0.5)
        XCTAssertEqual(Double(r[1].scores[0]), 1 / (1 + w), accuracy: 1e-6)
        XCTAssertEqual(Double(r[1].scores[1]), w / (1 + w), accuracy: 1e-6)
        XCTAssertEqual(r[1].scores[2], 0)
        // k = 10 is clamped to 4: all four vote.
        XCTAssertEqual(r[2].effectiveK, 4)
        let e = [1.0, exp(-1 / 0.5), exp(-(1 - 0.5.squareRoot()) / 0.5), exp(-2 / 0.5)]
        let total = e.reduce(0, +)
        XCTAssertEqual(Double(r[2].scores[0]), e[0] / total, accuracy: 1e-6)
        XCTAssertEqual(Double(r[2].scores[1]), (e[1] + e[2]) / total, accuracy: 1e-6)
        XCTAssertEqual(Double(r[2].scores[2]), e[3] / total, accuracy: 1e-6)
    }

    func testTiesPreferLowerTrainIndex() throws {
        // Two identical train points with different classes: k = 1 takes the first one.
        let knn = try KNNClassifier(trainFeatures: [1, 0, 1, 0, 0, 1], trainLabels: [2, 0, 1], dim: 2, classCount: 3, ks: [1, 2])
        let r = try knn.classScores(queries: [3, 0])
        XCTAssertEqual(r[0].scores, [0, 0, 1])
        XCTAssertEqual(r[1].scores, [0.5, 0, 0.5])
    }

    func testChunkIsBoundedForHugeTrainSets() throws {
        let n = 1 << 20
        let knn = try KNNClassifier(trainFeatures: [Float](repeating: 1, count: n), trainLabels: [Int](repeating: 0, count: n),
                                    dim: 1, classCount: 1)
        XCTAssertEqual(knn.queryChunk, 64) // 64 x 2^20 similarities = 256 MB
    }

    func testErrors() {
        XCTAssertThrowsError(try KNNClassifier(trainFeatures: [1, 0, .nan, 0], trainLabels: [0, 1], dim: 2, classCount: 2)) {
            XCTAssertTrue("\($0)".contains("row 1"), "\($0)")
        }
        XCTAssertThrowsError(try KNNClassifier(trainFeatures: [1, 0], trainLabels: [3], dim: 2, classCount: 2))
        XCTAssertThrowsError(try KNNClassifier(trainFeatures: [1, 0], trainLabels: [0], dim: 2, classCount: 2, ks: [0]))
        XCTAssertThrowsError(try KNNClassifier(trainFeatures: [1, 0, 1], trainLabels: [0], dim: 2, classCount: 2))
        XCTAssertThrowsError(try KNNClassifier(trainFeatures: [1, 0], trainLabels: [0], dim: 2, classCount: 2, temperature: 0))
        let knn = try? KNNClassifier(trainFeatures: [1, 0], trainLabels: [0], dim: 2, classCount: 2)
        XCTAssertThrowsError(try knn?.classScores(queries: [1, 0, 1]))
        XCTAssertThrowsError(try knn?.evaluate(queries: [1, 0], labels: [0], classNames: ["a"]))
    }
}
