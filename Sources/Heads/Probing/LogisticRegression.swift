import Foundation

/// L2-regularised logistic regression in Double, fitted as scikit-learn's
/// `LogisticRegression(solver="lbfgs", C=C, tol=1e-12, max_iter=1000)` fits it (Meta's
/// logistic-regression protocol): minimise C Σ_i CE_i + ½ ||W||² with an unpenalised bias, by
/// L-BFGS from zero (or from `warmStart`). More than two classes: the softmax (multinomial)
/// model. Two classes: sklearn's binomial model, one weight vector w; here class 0's row is 0
/// and class 1's is w, which gives the same probabilities.
///
/// Classes without training samples are left out of the fit, as sklearn (which only knows the
/// labels it saw) leaves them out: their weights are 0 and their bias `absentClassBias`, so
/// they are never predicted.
public struct LogisticRegression: Sendable {
    /// K, the number of classes.
    public let classes: Int
    /// D, the feature width.
    public let dim: Int
    /// [classes, dim] row-major.
    public var weight: [Double]
    /// [classes].
    public var bias: [Double]

    /// The bias of a class that had no training samples.
    public static let absentClassBias = -1e30

    /// A fitted model and how the fit went.
    public struct Fit: Sendable {
        /// The fitted model.
        public var model: LogisticRegression
        /// The final value of C Σ CE_i + ½ ||W||², divided by C n (sklearn's scaling).
        public var objective: Double
        /// L-BFGS iterations and evaluations, and why it stopped.
        public var iterations: Int
        public var evaluations: Int
        public var stop: LBFGSStop
    }

    /// Fits `features` [labels.count, dim] against `labels` (each in 0..<classes) with
    /// regularisation `C`. `threads` workers share each evaluation of the objective.
    public static func fit(features: [Float], labels: [Int], dim: Int, classes: Int, C: Double,
                           warmStart: LogisticRegression? = nil, solver: LBFGSSettings = LBFGSSettings(),
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Fit {
        try LogisticProblem(LabelledFeatures(values: features, labels: labels, width: dim), classes: classes, threads: threads)
            .fit(C: C, warmStart: warmStart, solver: solver)
    }

    /// Logits [count, classes] of `features` [count, dim], in Double.
    public func logits(features: [Float], count: Int) throws -> [Double] {
        try require(count >= 0 && features.count == (try checkedProduct(count, dim, "features")), "features",
                    "\(features.count) values are not \(count) rows of width \(dim)")
        var out = [Double](repeating: 0, count: count * classes)
        guard count > 0 else { return out }
        let x = features.map(Double.init)
        for i in 0..<count { for c in 0..<classes { out[i * classes + c] = bias[c] } }
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    BLAS.gemm(xp.baseAddress!, wp.baseAddress!, transposeB: true, into: op.baseAddress!,
                              m: count, n: classes, k: dim, beta: 1)
                }
            }
        }
        return out
    }

    /// Softmax probabilities [count, classes] (sklearn's `predict_proba`).
    public func probabilities(features: [Float], count: Int) throws -> [Double] {
        var z = try logits(features: features, count: count)
        for i in 0..<count {
            let row = i * classes
            let top = z[row..<(row + classes)].max() ?? 0
            var sum = 0.0
            for c in 0..<classes { z[row + c] = exp(z[row + c] - top); sum += z[row + c] }
            for c in 0..<classes { z[row + c] /= sum }
        }
        return z
    }

    /// Top-1 accuracy (0...1; the first class on ties) and mean cross-entropy on labelled features.
    public func score(_ rows: LabelledFeatures) throws -> (accuracy: Double, loss: Double) {
        try require(rows.width == dim, "features", "width \(rows.width), the model takes \(dim)")
        guard rows.count > 0 else { return (0, 0) }
        var z = try logits(features: rows.values, count: rows.count)
        var correct = 0, loss = 0.0
        for (i, label) in rows.labels.enumerated() {
            try require(label >= 0 && label < classes, "label", "\(label) at row \(i) is not in 0..<\(classes)")
            let row = i * classes
            var best = 0
            for c in 1..<classes where z[row + c] > z[row + best] { best = c }
            if best == label { correct += 1 }
            loss += z.withUnsafeMutableBufferPointer {
                LogisticObjective.lossAndResidual($0.baseAddress! + row, label: label, rows: classes, binary: false)
            }
        }
        return (Double(correct) / Double(rows.count), loss / Double(rows.count))
    }

    /// The model as a Float `LinearClassifier` head (the same logits, rounded to Float).
    public func head(metadata: HeadMetadata) throws -> LinearClassifier {
        let w = weight.map(Float.init), b = bias.map(Float.init)
        try requireFinite(w, "weight")
        try requireFinite(b, "bias")
        return try LinearClassifier(weight: w, bias: b, dim: dim, classes: classes, metadata: metadata)
    }
}

/// One training set prepared for fitting at many values of C: the classes it holds, and the
/// features held in Double once.
struct LogisticProblem {
    let classes: Int
    let dim: Int
    /// The classes with samples, ascending; the fit runs on these alone.
    let present: [Int]
    let objective: LogisticObjective

    var count: Int { objective.count }

    init(_ rows: LabelledFeatures, classes: Int, threads: Int) throws {
        try require(classes >= 2, "class count", "logistic regression needs 2 or more classes, got \(classes)")
        try require(rows.width > 0, "feature width", "must be positive, got \(rows.width)")
        try require(rows.count > 0 && rows.values.count == (try checkedProduct(rows.count, rows.width, "features")), "features",
                    "\(rows.values.count) values are not \(rows.count) rows of width \(rows.width)")
        for (i, label) in rows.labels.enumerated() where label < 0 || label >= classes {
            throw HeadError.labelOutOfRange(label: label, classes: classes, position: i)
        }
        try require(rows.values.allSatisfy(\.isFinite), "features", "they hold NaN or infinite values and cannot be fitted")
        present = Array(Set(rows.labels)).sorted()
        try require(present.count >= 2, "training labels", "only class \(present.first ?? 0) has samples; logistic regression needs 2")
        var compact = [Int](repeating: -1, count: classes)
        for (k, c) in present.enumerated() { compact[c] = k }
        self.classes = classes
        dim = rows.width
        objective = LogisticObjective(features: rows.values, labels: rows.labels.map { compact[$0] }, classes: present.count,
                                      dim: rows.width, threads: threads)
    }

    /// The minimiser of C Σ CE_i + ½ ||W||², from zero or from `warmStart`.
    func fit(C: Double, warmStart: LogisticRegression?, solver: LBFGSSettings) throws -> LogisticRegression.Fit {
        try require(C.isFinite && C > 0, "C", "must be positive and finite, got \(C)")
        let start = try warmStart.map(parameters(of:)) ?? [Double](repeating: 0, count: objective.parameterCount)
        let penalty = 1 / (C * Double(count))
        let result = try LBFGS.minimize(from: start, settings: solver) { p, g in objective.value(at: p, gradient: g, penalty: penalty) }
        guard result.value.isFinite, result.x.allSatisfy(\.isFinite) else {
            throw HeadError.diverged("logistic regression at C = \(C) reached NaN or infinite values")
        }
        return LogisticRegression.Fit(model: model(from: result.x), objective: result.value, iterations: result.iterations,
                                      evaluations: result.evaluations, stop: result.stop)
    }

    /// The full model from the fitted parameters of the present classes.
    private func model(from p: [Double]) -> LogisticRegression {
        let (d, r) = (dim, objective.rows)
        var weight = [Double](repeating: 0, count: classes * d)
        var bias = [Double](repeating: LogisticRegression.absentClassBias, count: classes)
        if objective.binary {
            // Class 0's logit is 0; class 1's is w·x + b.
            bias[present[0]] = 0
            for j in 0..<d { weight[present[1] * d + j] = p[j] }
            bias[present[1]] = p[d]
        } else {
            for (k, c) in present.enumerated() {
                for j in 0..<d { weight[c * d + j] = p[k * d + j] }
                bias[c] = p[r * d + k]
            }
        }
        return LogisticRegression(classes: classes, dim: d, weight: weight, bias: bias)
    }

    /// The fit's parameters from a full model (the binomial w is the difference of two rows).
    private func parameters(of m: LogisticRegression) throws -> [Double] {
        try require(m.classes == classes && m.dim == dim, "warm start", "a \(m.classes)-class model of width \(m.dim); expected \(classes) and \(dim)")
        let (d, r) = (dim, objective.rows)
        var p = [Double](repeating: 0, count: objective.parameterCount)
        if objective.binary {
            let (a, b) = (present[0], present[1])
            for j in 0..<d { p[j] = m.weight[b * d + j] - m.weight[a * d + j] }
            p[d] = m.bias[b] - m.bias[a]
        } else {
            for (k, c) in present.enumerated() {
                for j in 0..<d { p[k * d + j] = m.weight[c * d + j] }
                p[r * d + k] = m.bias[c]
            }
        }
        try require(p.allSatisfy(\.isFinite), "warm start", "the model holds NaN or infinite values")
        return p
    }
}
