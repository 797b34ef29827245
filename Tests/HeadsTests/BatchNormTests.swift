import Heads
import XCTest

final class BatchNormTests: XCTestCase {
    func testTrainingForwardNormalisesAndUpdatesRunningStatsUnbiased() throws {
        var bn = try BatchNorm(channels: 2)
        let x: [Float] = [1, 10, 2, 20, 3, 30, 4, 40]
        let (y, cache) = try bn.forwardTraining(x, rows: 4)
        XCTAssertEqual(cache.mean, [2.5, 25])
        XCTAssertEqual(cache.variance[0], 1.25, accuracy: 1e-6)  // biased
        XCTAssertEqual(y[0], -1.5 / (1.25 + 1e-5).squareRoot(), accuracy: 1e-5)
        bn.updateRunningStatistics(cache)
        XCTAssertEqual(bn.runningMean[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar[0], 0.9 + 0.1 * 1.25 * 4 / 3, accuracy: 1e-6)  // unbiased
        XCTAssertEqual(bn.batchesTracked, 1)
        XCTAssertThrowsError(try bn.forwardTraining([1, 2], rows: 1))
    }

    func testTrainingBackwardMatchesFiniteDifferences() throws {
        let (rows, c) = (10, 3)
        var bn = try BatchNorm(channels: c)
        bn.weight = [1.2, 0.7, -0.5]
        bn.bias = [0.1, -0.2, 0.3]
        let x = randomArray(rows * c, std: 2, seed: 51)
        let r = randomArray(rows * c, seed: 52)
        func loss(_ norm: BatchNorm, _ input: [Float]) throws -> Float {
            Float(dot(try norm.forwardTraining(input, rows: rows).output, r))
        }
        let (_, cache) = try bn.forwardTraining(x, rows: rows)
        let g = try bn.backward(r, cache: cache)
        assertGradient(try XCTUnwrap(g.input), try finiteDifferences(x, step: 1e-2) { try loss(bn, $0) }, tolerance: 3e-3, "batch norm dx")
        assertGradient(g.weight, try finiteDifferences(bn.weight) { w in var p = bn; p.weight = w; return try loss(p, x) },
                       tolerance: 2e-3, "batch norm dgamma")
        assertGradient(g.bias, try finiteDifferences(bn.bias) { b in var p = bn; p.bias = b; return try loss(p, x) },
                       tolerance: 2e-3, "batch norm dbeta")
    }
}
