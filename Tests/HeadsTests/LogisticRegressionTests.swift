import Foundation
import Heads
import XCTest

/// Parity with scikit-learn's `LogisticRegression(solver="lbfgs", tol=1e-12, max_iter=1000)` and
/// scipy's L-BFGS-B on the committed fixture Fixtures/logreg.json (scripts/make_logreg_fixtures.py).
final class LogisticRegressionTests: XCTestCase {
    /// One of the fixture's data sets.
    struct Case {
        let name: String
        let count: Int, dim: Int, classes: Int
        let features: [Float]
        let labels: [Int]
        let fits: [[String: Any]]

        init(_ json: [String: Any]) throws {
            name = try XCTUnwrap(json["name"] as? String)
            count = try XCTUnwrap(json["count"] as? Int)
            dim = try XCTUnwrap(json["dim"] as? Int)
            classes = try XCTUnwrap(json["classes"] as? Int)
            features = try XCTUnwrap(json["features_f32_bits"] as? [Int]).map { Float(bitPattern: UInt32($0)) }
            labels = try XCTUnwrap(json["labels"] as? [Int])
            fits = try XCTUnwrap(json["fits"] as? [[String: Any]])
        }

        func rows(_ indices: [Int]) -> LabelledFeatures {
            LabelledFeatures(values: features, labels: labels, width: dim).rows(indices)
        }
    }

    /// The parsed fixture.
    func fixture() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("logreg.json")))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func cases() throws -> [Case] {
        try XCTUnwrap(try fixture()["cases"] as? [[String: Any]], "Fixtures/logreg.json is missing or unreadable").map(Case.init)
    }

    /// Our K rows in sklearn's layout: all K rows, or for two classes class 1's row alone
    /// (class 0's must be 0).
    func sklearnLayout(_ m: LogisticRegression) -> (coef: [Double], intercept: [Double]) {
        guard m.classes == 2 else { return (m.weight, m.bias) }
        XCTAssertEqual(m.weight[0..<m.dim].map { abs($0) }.max(), 0, "class 0's row of a binary model is 0")
        XCTAssertEqual(m.bias[0], 0)
        return (Array(m.weight[m.dim...]), [m.bias[1]])
    }

    /// The largest difference relative to the reference's largest magnitude.
    func relative(_ a: [Double], _ reference: [Double]) -> Double {
        XCTAssertEqual(a.count, reference.count)
        let scale = reference.map { abs($0) }.max() ?? 0
        return zip(a, reference).map { abs($0 - $1) }.max().map { $0 / max(scale, 1e-300) } ?? 0
    }

    func maxAbs(_ a: [Double], _ b: [Double]) -> Double {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    func argmax(_ p: [Double], classes: Int) -> [Int] {
        stride(from: 0, to: p.count, by: classes).map { s in
            var best = 0
            for k in 1..<classes where p[s + k] > p[s + best] { best = k }
            return best
        }
    }

    /// Intercepts of a multinomial model less their mean (the softmax does not see a common shift).
    func centred(_ b: [Double]) -> [Double] {
        guard b.count > 1 else { return b }
        let mean = b.reduce(0, +) / Double(b.count)
        return b.map { $0 - mean }
    }

    /// Compares a fit with sklearn's lbfgs result and with the exact optimum of the fixture:
    /// within the stated tolerances of sklearn, same top-1, and no farther from the optimum than
    /// sklearn's own result (3x, plus 1e-9). With `sameIterations`, the iteration count is
    /// sklearn's too (the same algorithm from the same start).
    func compare(_ fit: LogisticRegression.Fit, _ reference: [String: Any], _ c: Case, label: String,
                 sameIterations: Bool = false) throws {
        let coef = try XCTUnwrap(reference["coef"] as? [[Double]]).flatMap { $0 }
        let intercept = try XCTUnwrap(reference["intercept"] as? [Double])
        let proba = try XCTUnwrap(reference["proba"] as? [[Double]]).flatMap { $0 }
        let optimum = try XCTUnwrap(reference["optimum"] as? [String: Any])
        let exactCoef = try XCTUnwrap(optimum["coef"] as? [[Double]]).flatMap { $0 }
        let exactIntercept = try XCTUnwrap(optimum["intercept"] as? [Double])
        let ours = sklearnLayout(fit.model)
        let p = try fit.model.probabilities(features: c.features, count: c.count)
        let objective = try XCTUnwrap(reference["objective"] as? Double)
        let interceptScale = max(1, intercept.map { abs($0) }.max() ?? 0)
        let (coefError, interceptError) = (relative(ours.coef, coef), maxAbs(ours.intercept, intercept) / interceptScale)
        let (probaError, objectiveError) = (maxAbs(p, proba), abs(fit.objective - objective) / objective)
        let ourDistance = max(relative(ours.coef, exactCoef), maxAbs(centred(ours.intercept), centred(exactIntercept)) / interceptScale)
        let theirDistance = max(relative(coef, exactCoef), maxAbs(centred(intercept), centred(exactIntercept)) / interceptScale)
        print(String(format: "%@: vs sklearn: coef rel %.1e, intercept rel %.1e, proba abs %.1e, objective rel %.1e; from the optimum: ours %.1e, sklearn's %.1e; iterations %d (sklearn %d), %@",
                     label, coefError, interceptError, probaError, objectiveError, ourDistance, theirDistance, fit.iterations,
                     reference["n_iter"] as? Int ?? -1, fit.stop.rawValue))
        XCTAssertLessThan(coefError, 5e-4, "\(label): coefficients")
        XCTAssertLessThan(interceptError, 5e-4, "\(label): intercepts")
        XCTAssertLessThan(probaError, 1e-6, "\(label): probabilities")
        XCTAssertLessThan(objectiveError, 1e-8, "\(label): objective")
        XCTAssertLessThanOrEqual(ourDistance, 3 * theirDistance + 1e-9, "\(label): no farther from the optimum than sklearn")
        XCTAssertEqual(argmax(p, classes: c.classes), argmax(proba, classes: c.classes), "\(label): top-1 predictions")
        XCTAssertTrue(fit.stop.converged, "\(label): \(fit.stop)")
        if sameIterations { XCTAssertEqual(fit.iterations, reference["n_iter"] as? Int, "\(label): sklearn's iterations") }
    }

    func testMetaGridIsTorchsFloat32Grid() throws {
        let torch = try XCTUnwrap(try fixture()["meta_c_values_f32_bits"] as? [Int]).map { Double(Float(bitPattern: UInt32($0))) }
        let ours = LogisticRegressionProbe.metaCValues
        XCTAssertEqual(ours.count, 45)
        XCTAssertEqual(torch.count, 45)
        let worst = zip(ours, torch).map { abs($0 - $1) / $1 }.max() ?? 1
        let exact = zip(ours, torch).filter { $0 == $1 }.count
        print(String(format: "Meta's C grid: %d of 45 equal to torch's float32 values, worst relative difference %.2e", exact, worst))
        XCTAssertLessThanOrEqual(worst, Double(Float.ulpOfOne), "within one float32 ulp of torch's grid")
        XCTAssertEqual(ours.first ?? 0, 1e-6, accuracy: 1e-13)
        XCTAssertEqual(ours.last ?? 0, 1e5, accuracy: 1e-2)
    }

    func testLBFGSFollowsScipyOnRosenbrock() throws {
        let reference = try XCTUnwrap(try fixture()["rosenbrock"] as? [String: Any])
        let x0 = try XCTUnwrap(reference["x0"] as? [Double])
        let result = try LBFGS.minimize(from: x0) { x, g in
            let (a, b) = (x[0], x[1])
            g[0] = -400 * a * (b - a * a) - 2 * (1 - a)
            g[1] = 200 * (b - a * a)
            return 100 * (b - a * a) * (b - a * a) + (1 - a) * (1 - a)
        }
        let x = try XCTUnwrap(reference["x"] as? [Double])
        print("Rosenbrock: \(result.iterations) iterations, \(result.evaluations) evaluations (scipy \(reference["nit"] ?? "?"), \(reference["nfev"] ?? "?")), x \(result.x) (scipy \(x))")
        XCTAssertEqual(result.iterations, reference["nit"] as? Int, "scipy's iteration count")
        XCTAssertEqual(result.evaluations, reference["nfev"] as? Int, "scipy's evaluation count")
        XCTAssertEqual(result.stop, .reduction)
        XCTAssertLessThan(maxAbs(result.x, x), 1e-9)
    }

    func testFitsFromZeroMatchScikitLearn() throws {
        for c in try cases() {
            for reference in c.fits {
                let C = try XCTUnwrap(reference["C"] as? Double)
                let fit = try LogisticRegression.fit(features: c.features, labels: c.labels, dim: c.dim, classes: c.classes, C: C)
                // The same algorithm from the same start takes sklearn's steps, until rounding
                // differences grow over hundreds of iterations on an ill-conditioned problem.
                try compare(fit, reference, c, label: "\(c.name) C=\(C)", sameIterations: reference["n_iter"] as? Int ?? 0 <= 200)
            }
        }
    }

    func testWarmStartReachesTheSameOptimum() throws {
        for c in try cases() {
            var previous: LogisticRegression?
            for reference in c.fits {
                let C = try XCTUnwrap(reference["C"] as? Double)
                let fit = try LogisticRegression.fit(features: c.features, labels: c.labels, dim: c.dim, classes: c.classes, C: C,
                                                     warmStart: previous)
                try compare(fit, reference, c, label: "\(c.name) C=\(C) warm")
                previous = fit.model
            }
        }
    }

    func testTheFloatHeadGivesScikitLearnsProbabilities() throws {
        let c = try XCTUnwrap(try cases().first)
        let reference = c.fits[2]
        let fit = try LogisticRegression.fit(features: c.features, labels: c.labels, dim: c.dim, classes: c.classes,
                                             C: try XCTUnwrap(reference["C"] as? Double))
        let head = try fit.model.head(metadata: HeadMetadata(kind: .classifier, classNames: ["a", "b", "c", "d"]))
        let p = try head.probabilities(features: c.features, count: c.count).map(Double.init)
        let proba = try XCTUnwrap(reference["proba"] as? [[Double]]).flatMap { $0 }
        let error = maxAbs(p, proba)
        print(String(format: "Float head: probabilities within %.2e of sklearn's", error))
        XCTAssertLessThan(error, 1e-5)
        XCTAssertEqual(argmax(p, classes: 4), argmax(proba, classes: 4))
    }

    func testThePathChoosesScikitLearnsC() throws {
        let path = try XCTUnwrap(try fixture()["path"] as? [String: Any])
        let c = try XCTUnwrap(try cases().first { $0.name == path["case"] as? String })
        let held = try XCTUnwrap(path["holdout"] as? [Int])
        let keep = (0..<c.count).filter { !held.contains($0) }
        let accuracy = try XCTUnwrap(path["accuracy"] as? [Double])
        let (result, model) = try LogisticRegressionProbe.path(c.rows(keep), selection: c.rows(held), classes: c.classes,
                                                                settings: LogisticRegressionSettings())
        let ours = result.points.map(\.selectionAccuracy)
        let differing = zip(ours, accuracy).filter { abs($0 - $1) > 1e-12 }.count
        print("path: chosen C \(result.bestC) (index \(result.bestIndex)), sklearn \(path["best_C"] ?? "?") (index \(path["best_index"] ?? "?")); hold-out top-1 differs at \(differing) of 45 values of C")
        print("path iterations (warm started): \(result.points.map(\.iterations)); sklearn from zero: \(path["n_iter"] ?? "?")")
        XCTAssertEqual(result.bestIndex, path["best_index"] as? Int)
        XCTAssertEqual(result.bestC, LogisticRegressionProbe.metaCValues[result.bestIndex])
        XCTAssertEqual(differing, 0)
        XCTAssertTrue(result.points.allSatisfy { $0.stop.converged })
        // The refit on all rows, from the chosen C's path model, reaches sklearn's refit.
        let refit = try LogisticRegression.fit(features: c.features, labels: c.labels, dim: c.dim, classes: c.classes,
                                               C: result.bestC, warmStart: model)
        try compare(refit, try XCTUnwrap(path["refit"] as? [String: Any]), c, label: "refit")
    }

    func testAClassWithoutSamplesIsNeverPredicted() throws {
        let c = try XCTUnwrap(try cases().first)
        let kept = (0..<c.count).filter { c.labels[$0] != 2 }
        let rows = c.rows(kept)
        let fit = try LogisticRegression.fit(features: rows.values, labels: rows.labels, dim: c.dim, classes: 4, C: 1)
        XCTAssertEqual(fit.model.bias[2], LogisticRegression.absentClassBias)
        XCTAssertEqual(fit.model.weight[(2 * c.dim)..<(3 * c.dim)].map { abs($0) }.max(), 0)
        let p = try fit.model.probabilities(features: c.features, count: c.count)
        XCTAssertFalse(argmax(p, classes: 4).contains(2))
        XCTAssertTrue(p.allSatisfy(\.isFinite))
        // The other three classes are fitted as a three-class problem (labels 0, 1, 3 -> 0, 1, 2).
        let three = try LogisticRegression.fit(features: rows.values, labels: rows.labels.map { $0 == 3 ? 2 : $0 }, dim: c.dim,
                                               classes: 3, C: 1)
        XCTAssertLessThan(maxAbs(Array(fit.model.weight[(3 * c.dim)...]), Array(three.model.weight[(2 * c.dim)...])), 1e-12)
        let head = try fit.model.head(metadata: HeadMetadata(kind: .classifier))
        XCTAssertTrue(try head.probabilities(features: c.features, count: c.count).allSatisfy(\.isFinite))
    }

    func testBadInputsAreRefused() throws {
        let x: [Float] = [0, 1, 1, 0, 2, 2]
        XCTAssertThrowsError(try LogisticRegression.fit(features: x, labels: [0, 0, 0], dim: 2, classes: 2, C: 1), "one class")
        XCTAssertThrowsError(try LogisticRegression.fit(features: x, labels: [0, 1, 2], dim: 2, classes: 2, C: 1), "label out of range")
        XCTAssertThrowsError(try LogisticRegression.fit(features: x, labels: [0, 1], dim: 2, classes: 2, C: 1), "shape")
        XCTAssertThrowsError(try LogisticRegression.fit(features: [0, .nan, 1, 0, 2, 2], labels: [0, 1, 1], dim: 2, classes: 2, C: 1), "NaN")
        for C in [0, -1, Double.infinity, Double.nan] {
            XCTAssertThrowsError(try LogisticRegression.fit(features: x, labels: [0, 1, 1], dim: 2, classes: 2, C: C), "C \(C)")
        }
        var settings = LogisticRegressionSettings()
        settings.cValues = []
        XCTAssertThrowsError(try settings.check())
    }
}
