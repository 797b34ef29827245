import Evaluation
import Foundation
import Support

/// Few-shot evaluation as Meta's `dinov3/eval` does it (`create_train_dataset_dict`): for each
/// try t, a generator seeded with t draws, class by class in label order, a random permutation
/// of the class's training samples and keeps its first n, where n is `shots` itself, or
/// `max(floor(count * shots), 1)` when `shots` is a fraction below 1. Each subset trains every
/// protocol; the scores on val are averaged over the tries (mean and standard deviation).
public enum FewShot {
    /// The training rows of every try: for `shots` >= 1, `Int(shots)` per class (all of a class
    /// that has fewer); below 1, that fraction of each class, at least one. Sorted row indices.
    public static func subsets(labels: [Int], shots: Double, tries: Int) throws -> [[Int]] {
        try require(shots.isFinite && shots > 0 && tries > 0, "few-shot settings", "shots must be positive and tries at least 1")
        var byClass: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
        let classes = byClass.keys.sorted()
        return (0..<tries).map { t in
            var random = SeededRandom(seed: UInt64(t))
            var chosen: [Int] = []
            for c in classes {
                let members = byClass[c] ?? []
                let n = shots < 1 ? max(Int(Double(members.count) * shots), 1) : min(Int(shots), members.count)
                chosen += random.permutation(members.count).prefix(n).map { members[$0] }
            }
            return chosen.sorted()
        }
    }

    /// One protocol's val top-1 over the tries.
    public struct Score: Sendable, Codable, Equatable {
        public var method: String
        public var shots: Double
        public var top1: [Double]
        public var mean: Double { top1.isEmpty ? 0 : top1.reduce(0, +) / Double(top1.count) }
        /// Sample standard deviation (0 for a single try).
        public var std: Double {
            guard top1.count > 1 else { return 0 }
            let m = mean
            return (top1.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(top1.count - 1)).squareRoot()
        }

        public init(method: String, shots: Double, top1: [Double]) {
            (self.method, self.shots, self.top1) = (method, shots, top1)
        }

        enum CodingKeys: String, CodingKey { case method, shots, top1, mean, std }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            method = try c.decode(String.self, forKey: .method)
            shots = try c.decode(Double.self, forKey: .shots)
            top1 = try c.decode([Double].self, forKey: .top1)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(method, forKey: .method)
            try c.encode(shots, forKey: .shots)
            try c.encode(top1, forKey: .top1)
            try c.encode(mean, forKey: .mean)
            try c.encode(std, forKey: .std)
        }
    }

    /// The linear grid (best head chosen on val, as Meta's few-shot runs do), logistic
    /// regression on CLS (Meta's C grid, C chosen on val likewise; nil `logistic` skips it) and
    /// k-NN (each of `ks`, clamped to the subset) on every subset of every shot count; val top-1
    /// per try. `progress` receives a line per finished (shots, try).
    public static func run(train: FeatureSplit, val: FeatureSplit, shots: [Double], tries: Int, tokens: FeatureTokens = .clsAvgpool,
                           settings: LinearProbeSettings, logistic: LogisticRegressionSettings? = LogisticRegressionSettings(),
                           ks: [Int] = [20], temperature: Float = 0.07,
                           progress: (String) -> Void = { _ in }) throws -> [Score] {
        try train.checkMatches(val)
        try logistic?.check()
        let trainRows = try train.labelled(tokens, blocks: 1), valRows = try val.labelled(tokens, blocks: 1)
        let trainCLSRows = try train.labelled(.cls, blocks: 1), valCLSRows = try val.labelled(.cls, blocks: 1)
        let trainCLS = train.features.normalisedCLS(), valCLS = val.features.normalisedCLS()
        let dim = train.features.dim, classes = train.classNames.count
        var scores: [Score] = []
        for s in shots {
            var linear: [Double] = [], logreg: [Double] = [], knn: [[Double]] = Array(repeating: [], count: ks.count)
            var usedK = Array(repeating: 0, count: ks.count)
            for (t, subset) in try subsets(labels: train.labels, shots: s, tries: tries).enumerated() {
                let rows = trainRows.rows(subset)
                var perTry = settings
                perTry.seed = settings.seed &+ UInt64(t)
                perTry.batchSize = min(settings.batchSize, subset.count)
                let (grid, result, _) = try LinearProbe.train(rows, selection: valRows, classes: classes, settings: perTry,
                                                                metadata: HeadMetadata(kind: .classifier))
                linear.append(Double(try grid.accuracies(features: valRows.values, labels: valRows.labels)[result.bestIndex]))
                if var logistic {
                    logistic.seed = settings.seed &+ UInt64(t)
                    let (path, _) = try LogisticRegressionProbe.path(trainCLSRows.rows(subset), selection: valCLSRows, classes: classes,
                                                                     settings: logistic)
                    logreg.append(path.points[path.bestIndex].selectionAccuracy)
                }
                var cls = [Float](); cls.reserveCapacity(subset.count * dim)
                for i in subset { cls += trainCLS[(i * dim)..<((i + 1) * dim)] }
                let classifier = try KNNClassifier(trainFeatures: cls, trainLabels: subset.map { train.labels[$0] }, dim: dim,
                                                   classCount: classes, ks: ks, temperature: temperature)
                for (i, r) in try classifier.evaluate(queries: valCLS, labels: val.labels, classNames: train.classNames).enumerated() {
                    knn[i].append(r.metrics.top1)
                    usedK[i] = max(usedK[i], r.effectiveK)
                }
                progress(String(format: "%g shots, try %d/%d: linear %.2f%%", s, t + 1, tries, 100 * (linear.last ?? 0))
                         + (logreg.last.map { String(format: ", logreg %.2f%%", 100 * $0) } ?? ""))
            }
            scores.append(Score(method: "linear", shots: s, top1: linear))
            if logistic != nil { scores.append(Score(method: "logreg", shots: s, top1: logreg)) }
            for (i, k) in ks.enumerated() { scores.append(Score(method: knnMethod(asked: k, used: usedK[i]), shots: s, top1: knn[i])) }
        }
        return scores
    }

    /// The k-NN row's name: k as used (clamped to the subset's images), and the k asked for when it differs.
    static func knnMethod(asked: Int, used: Int) -> String { used == asked ? "knn k=\(asked)" : "knn k=\(used) (\(asked) asked)" }

    /// A terminal table: one row per (method, shots), mean ± std over the tries.
    public static func table(_ scores: [Score]) -> String {
        let width = max(14, scores.map(\.method.count).max() ?? 0)
        func padded(_ text: String) -> String { text + String(repeating: " ", count: width - text.count) }
        var lines = [padded("method") + "  shots   tries     top-1 (mean ± std)"]
        for s in scores {
            let method = padded(s.method)
            lines.append(method + String(format: " %6g %7d   %7.2f%% ± %.2f", s.shots, s.top1.count, 100 * s.mean, 100 * s.std))
        }
        return lines.joined(separator: "\n")
    }
}
