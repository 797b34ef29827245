import Evaluation
import Heads

/// k-NN classification on L2-normalised CLS features (DINO's weighted vote, temperature 0.07).
public enum KNNTask {
    public static let description = TaskDescription(
        name: "knn", kind: .nearestNeighbours,
        summary: "cosine k-NN with temperature-weighted votes for each k; top-1, top-5, balanced accuracy, macro F1")

    /// The features k-NN reads: the CLS token of the last block.
    public static let recipe = FeatureRecipe(tokens: .cls, blocks: 1)

    /// The blocks extracted (and cached) for k-NN on a backbone `depth` blocks deep.
    public static func storedLayers(depth: Int) -> [Int] { FeatureCache.storedLayers(for: recipe, depth: depth) }

    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let k = 1...10_000_000
        public static let temperature: ClosedRange<Float> = 1e-4...100
    }

    /// Each k's class scores of the val images against the train images, and their metrics.
    public static func evaluate(train: FeatureSplit, val: FeatureSplit, settings: KNNSettings) throws -> (scores: [KNNScores], results: [KNNResult]) {
        let knn = try KNNClassifier(trainFeatures: train.features.normalisedCLS(), trainLabels: train.labels, dim: train.features.dim,
                                    classCount: train.classNames.count, ks: settings.k, temperature: settings.temperature)
        let scores = try knn.classScores(queries: val.features.normalisedCLS())
        return (scores, try scores.map { try KNNResult($0, labels: val.labels, classNames: val.classNames) })
    }

    /// One line per k: top-1, top-5, balanced accuracy, macro F1.
    public static func table(_ results: [KNNResult]) -> String {
        var lines = ["    k   top-1    top-5   balanced acc   macro F1"]
        for r in results {
            let top5 = r.metrics.top5.map { String(format: "%6.2f%%", 100 * $0) } ?? "     -"
            lines.append(String(format: "%5d  %6.2f%%  %@  %12.2f%%  %8.2f%%%@", r.k, 100 * r.metrics.top1, top5,
                                100 * r.metrics.balancedAccuracy, 100 * r.metrics.macroF1,
                                r.effectiveK != r.k ? "  (k clamped to \(r.effectiveK))" : ""))
        }
        return lines.joined(separator: "\n")
    }

    /// Writes knn.json and predictions-k<K>.csv per k into `folder`; returns the file names.
    public static func write(scores: [KNNScores], results: [KNNResult], val: FeatureSplit, to folder: String) throws -> [String] {
        try MetricsReport.writeJSON(results, to: folder + "/knn.json")
        var files = ["knn.json"]
        for s in scores {
            try ClassificationPredictions(paths: val.paths, probabilities: s.scores, labels: val.labels, classNames: val.classNames)
                .write(to: folder + "/predictions-k\(s.k).csv")
            files.append("predictions-k\(s.k).csv")
        }
        return files
    }
}
