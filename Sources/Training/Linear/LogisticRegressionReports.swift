import Evaluation
import Foundation
import Heads

extension LogisticRegressionOutcome {
    /// What `path.json` records about a run.
    struct Summary: Encodable {
        let protocolName = "logreg"
        let settings: LogisticRegressionSettings
        let path: LogisticRegressionPath
        let chosenC: Double
        let refit: LogisticRegressionPathPoint?
        let recipe: FeatureRecipe
        let backbone: String
        let fingerprint: String
        let trainSamples: Int
        let selectionSamples: Int
        let valSamples: Int

        enum CodingKeys: String, CodingKey {
            case protocolName = "protocol", settings, path, chosenC, refit, recipe, backbone, fingerprint, trainSamples, selectionSamples, valSamples
        }
    }

    /// Saves the run's results in `folder`: head.safetensors, metrics.json, confusion.csv,
    /// confusion.png and path.json (the C path, the chosen C and the refit). Returns the file names.
    @discardableResult
    public func write(to folder: String, title: String) throws -> [String] {
        let summary = Summary(settings: settings, path: path, chosenC: path.bestC, refit: refit, recipe: recipe,
                              backbone: head.metadata.backboneID, fingerprint: head.metadata.backboneFingerprint,
                              trainSamples: trainSamples, selectionSamples: selectionSamples, valSamples: valSamples)
        return try writeProbeResults(head: head, metrics: valMetrics, summary: summary, summaryFile: "path.json", to: folder, title: title)
    }
}
