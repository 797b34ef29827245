import Foundation

/// Settings of Meta's logistic-regression protocol (`dinov3/eval/log_regression.py`).
public struct LogisticRegressionSettings: Sendable, Codable, Equatable {
    /// The values of C tried, fitted in ascending order (default: Meta's 45).
    public var cValues: [Double] = LogisticRegressionProbe.metaCValues
    /// The L-BFGS settings of every fit (default: sklearn's with Meta's tol 1e-12, max_iter 1000).
    public var solver = LBFGSSettings()
    /// Start each fit of the path from the previous C's solution, and the refit from the chosen
    /// C's (Meta fits each from zero; the optimum is the same, reached in fewer iterations).
    public var warmStart = true
    /// Seed of the stratified hold-out split.
    public var seed: UInt64 = 0
    /// Workers sharing each evaluation of the objective.
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    /// Throws unless every value can run.
    public func check() throws {
        try require(!cValues.isEmpty && cValues.allSatisfy { $0.isFinite && $0 > 0 }, "C values", "give positive finite values")
        try require(threads > 0, "threads", "must be positive, got \(threads)")
    }
}

/// One value of C on the path: its scores on the selection split and how its fit went.
public struct LogisticRegressionPathPoint: Sendable, Codable, Equatable {
    /// The inverse regularisation strength.
    public var C: Double
    /// Top-1 (0...1) on the selection split.
    public var selectionAccuracy: Double
    /// Mean cross-entropy on the selection split.
    public var selectionLoss: Double
    /// The training objective at the end (C Σ CE + ½ ||W||², divided by C n).
    public var objective: Double
    /// L-BFGS iterations (sklearn's `n_iter_`) and objective evaluations of the fit.
    public var iterations: Int
    public var evaluations: Int
    /// Why the fit stopped (`gradient` and `reduction` mean converged).
    public var stop: LBFGSStop
    /// Wall time of the fit and its scoring.
    public var seconds: Double
}

/// The C path: every value's scores and the chosen one.
public struct LogisticRegressionPath: Sendable, Codable {
    public var points: [LogisticRegressionPathPoint]
    /// The chosen C: the highest top-1 on the selection split; ties go to the smallest C (the
    /// first best of the ascending path, as Meta's sweep keeps it).
    public var bestIndex: Int
    /// "holdout" (part of train) or "val" (the optimistic paper protocol).
    public var selectedOn: String
    /// Wall time of the whole path.
    public var seconds: Double

    /// The chosen C.
    public var bestC: Double { points[bestIndex].C }

    /// Why the chosen C deserves a warning, nil when it does not: it won a tie-break among
    /// several C of the same selection top-1, and its fit is degenerate (selection loss within
    /// 2% of log K: every probability about 1/K), so the selection split could not tell them apart.
    public func degenerateTieWarning(classes: Int) -> String? {
        let best = points[bestIndex]
        let tied = points.filter { $0.selectionAccuracy == best.selectionAccuracy }
        let uniform = log(Double(max(classes, 2)))
        guard tied.count > 1, abs(best.selectionLoss - uniform) <= 0.02 * uniform else { return nil }
        return String(format: "C = %.3g was chosen by the tie-break (smallest C) among %d values of C with the same %@ top-1 (%.2f%%), "
                      + "and its fit is degenerate (%@ loss %.4f, about log %d = %.4f: every probability near 1/%d); the %@ split "
                      + "cannot tell these C apart: try --select-on val, a larger --holdout, or more data",
                      best.C, tied.count, selectedOn, 100 * best.selectionAccuracy, selectedOn, best.selectionLoss, classes, uniform, classes,
                      selectedOn)
    }

    /// The path table: every C with its scores and fit, the chosen one marked.
    public var table: String {
        var lines = ["  C          \(selectedOn) top-1  \(selectedOn) loss   objective  iters  stop"]
        for (i, p) in points.enumerated() {
            var line = String(format: "  %-9.3g  %9.2f%%  %11.4f  %10.4g  %5d  %@", p.C, 100 * p.selectionAccuracy, p.selectionLoss,
                              p.objective, p.iterations, p.stop.rawValue)
            if i == bestIndex { line += "   <- best" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
