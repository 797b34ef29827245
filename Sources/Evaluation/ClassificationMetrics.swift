import Foundation

/// Classification metrics of one evaluation (docs/protocols.md, section 6).
///
/// - `top1`, `top5`: micro accuracy (fraction of samples, 0...1). A sample is top-k correct when
///   its true class is among the k best scores. Ties in scores are broken deterministically in
///   favour of the lower class index (so equal logits predict the first class); NaN scores rank
///   below every number. `top5` is nil when there are fewer than 5 classes.
/// - `perClassRecall[c]`: recall of class c, tp / (true samples of c); nil when the class has
///   no true samples.
/// - `balancedAccuracy`: mean of `perClassRecall` over classes with at least one true sample.
/// - `perClassF1[c]`, `macroF1`: exactly scikit-learn's `f1_score(y, p, average="macro")`: the
///   mean over the classes that appear in the labels or the predictions (other classes are left
///   out and their `perClassF1` is nil) of F1 = 2tp / (2tp + fp + fn), which is 0 when tp = 0.
/// - `perClassPrecision[c]`: tp / (samples predicted as c); nil when c is never predicted.
/// - `confusion[t][p]`: how many samples of true class t were predicted as p.
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    /// Class names, index = class id.
    public let classNames: [String]
    /// Number of samples evaluated.
    public let count: Int
    public let top1: Double
    public let top5: Double?
    public let balancedAccuracy: Double
    public let macroF1: Double
    public let perClassRecall: [Double?]
    public let perClassPrecision: [Double?]
    public let perClassF1: [Double?]
    /// True samples per class (row sums of `confusion`).
    public let support: [Int]
    /// Rows = true class, columns = predicted class.
    public let confusion: [[Int]]

    /// Metrics from scores (logits or probabilities) `[n, K]` row-major, true labels `[n]` and
    /// K class names.
    public init(scores: [Float], labels: [Int], classNames: [String]) throws {
        let k = classNames.count
        let n = labels.count
        guard k > 0 else { throw MetricsError.empty("no class names given") }
        guard scores.count == n * k else {
            throw MetricsError.shapeMismatch("\(scores.count) scores for \(n) labels x \(k) classes (expected \(n * k))")
        }
        try Self.checkRange(labels, what: "label", classCount: k)
        var predictions = [Int](repeating: 0, count: n)
        var top5Hits = 0
        scores.withUnsafeBufferPointer { all in
            for i in 0..<n {
                let row = UnsafeBufferPointer(rebasing: all[(i * k)..<(i * k + k)])
                predictions[i] = ScoreRanking.argmax(row) ?? 0
                if k >= 5 && ScoreRanking.rank(of: labels[i], in: row) < 5 { top5Hits += 1 }
            }
        }
        let top5 = k >= 5 && n > 0 ? Double(top5Hits) / Double(n) : nil
        try self.init(predictions: predictions, labels: labels, classNames: classNames, top5: top5)
    }

    /// Metrics from predicted labels directly (e.g. a k-NN vote); `top5` is carried as given
    /// (nil when unknown).
    public init(predictions: [Int], labels: [Int], classNames: [String], top5: Double? = nil) throws {
        let k = classNames.count
        let n = labels.count
        guard k > 0 else { throw MetricsError.empty("no class names given") }
        guard n > 0 else { throw MetricsError.empty("no samples (0 labels)") }
        guard predictions.count == n else { throw MetricsError.shapeMismatch("\(predictions.count) predictions for \(n) labels") }
        if let top5, !(0...1).contains(top5) {
            throw MetricsError.badArgument("top-5 accuracy \(top5) is not a fraction in 0...1")
        }
        try Self.checkRange(labels, what: "label", classCount: k)
        try Self.checkRange(predictions, what: "prediction", classCount: k)

        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var correct = 0
        for i in 0..<n {
            confusion[labels[i]][predictions[i]] += 1
            if labels[i] == predictions[i] { correct += 1 }
        }
        var support = [Int](repeating: 0, count: k)
        var predicted = [Int](repeating: 0, count: k)
        for t in 0..<k {
            for p in 0..<k {
                support[t] += confusion[t][p]
                predicted[p] += confusion[t][p]
            }
        }
        var recall = [Double?](repeating: nil, count: k)
        var precision = [Double?](repeating: nil, count: k)
        var f1 = [Double?](repeating: nil, count: k)
        for c in 0..<k {
            let tp = confusion[c][c]
            if support[c] > 0 { recall[c] = Double(tp) / Double(support[c]) }
            if predicted[c] > 0 { precision[c] = Double(tp) / Double(predicted[c]) }
            if support[c] > 0 || predicted[c] > 0 {
                let fp = predicted[c] - tp, fn = support[c] - tp
                f1[c] = tp == 0 ? 0 : Double(2 * tp) / Double(2 * tp + fp + fn)
            }
        }
        let recalls = recall.compactMap { $0 }
        let f1s = f1.compactMap { $0 }

        self.classNames = classNames
        self.count = n
        self.top1 = Double(correct) / Double(n)
        self.top5 = top5
        self.balancedAccuracy = recalls.reduce(0, +) / Double(recalls.count)
        self.macroF1 = f1s.reduce(0, +) / Double(f1s.count)
        (self.perClassRecall, self.perClassPrecision, self.perClassF1, self.support) = (recall, precision, f1, support)
        self.confusion = confusion
    }

    public static func checkRange(_ values: [Int], what: String, classCount: Int) throws {
        for (i, v) in values.enumerated() where v < 0 || v >= classCount {
            throw MetricsError.outOfRange(what: what, index: i, value: v, classCount: classCount)
        }
    }

    enum CodingKeys: String, CodingKey {
        case classNames = "class_names", count, top1, top5, balancedAccuracy = "balanced_accuracy", macroF1 = "macro_f1"
        case perClassRecall = "per_class_recall", perClassPrecision = "per_class_precision", perClassF1 = "per_class_f1", support, confusion
    }

    /// Encodes every key, writing `null` for a missing top-5 rather than leaving the key out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(classNames, forKey: .classNames)
        try c.encode(count, forKey: .count)
        try c.encode(top1, forKey: .top1)
        try c.encode(top5, forKey: .top5)
        try c.encode(balancedAccuracy, forKey: .balancedAccuracy)
        try c.encode(macroF1, forKey: .macroF1)
        try c.encode(perClassRecall, forKey: .perClassRecall)
        try c.encode(perClassPrecision, forKey: .perClassPrecision)
        try c.encode(perClassF1, forKey: .perClassF1)
        try c.encode(support, forKey: .support)
        try c.encode(confusion, forKey: .confusion)
    }
}
