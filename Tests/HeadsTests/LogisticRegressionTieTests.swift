import Foundation
@testable import Heads
import XCTest

/// train-logreg warns when the chosen C only won the tie-break among degenerate fits.
final class LogisticRegressionTieTests: XCTestCase {
    func path(_ scores: [(C: Double, accuracy: Double, loss: Double)], best: Int) -> LogisticRegressionPath {
        LogisticRegressionPath(points: scores.map {
            LogisticRegressionPathPoint(C: $0.C, selectionAccuracy: $0.accuracy, selectionLoss: $0.loss, objective: 0, iterations: 1,
                                        evaluations: 1, stop: .gradient, seconds: 0)
        }, bestIndex: best, selectedOn: "holdout", seconds: 0)
    }

    func testATieAmongNearlyUniformFitsIsWarnedOf() throws {
        let uniform = log(4.0)
        let tied = path([(1e-6, 0.25, uniform), (1e-5, 0.25, uniform - 0.001), (1e-4, 0.25, uniform - 0.01), (1, 0.2, 1.1)], best: 0)
        let warning = try XCTUnwrap(tied.degenerateTieWarning(classes: 4))
        XCTAssertTrue(warning.contains("C = 1e-06") && warning.contains("among 3 values") && warning.contains("--select-on val"), warning)
        // A clear winner, or a tie among fits that learned something: no warning.
        XCTAssertNil(path([(1e-6, 0.25, uniform), (1, 0.9, 0.3)], best: 1).degenerateTieWarning(classes: 4))
        XCTAssertNil(path([(0.1, 0.9, 0.4), (1, 0.9, 0.3)], best: 0).degenerateTieWarning(classes: 4))
    }
}
