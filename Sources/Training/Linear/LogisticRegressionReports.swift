import Evaluation
import Foundation
import Heads

extension LogisticRegressionOutcome {
    /// What `path.json` records about a run (with the head's provenance beside it).
    struct Record: Encodable {
        let protocolName = "logreg"
        let settings: LogisticRegressionSettings
        let path: LogisticRegressionPath
        let chosenC: Double
        let refit: LogisticRegressionPathPoint?

        enum CodingKeys: String, CodingKey {
            case protocolName = "protocol", settings, path, chosenC, refit
        }
    }

    /// Saves the run's results in `folder`: head.safetensors, metrics.json, confusion.csv,
    /// confusion.png and path.json (the C path, the chosen C and the refit). Returns the file names.
    @discardableResult
    public func write(to folder: String, title: String) throws -> [String] {
        try writeProbeResults(head: head, metrics: valMetrics, record: Record(settings: settings, path: path, chosenC: path.bestC, refit: refit),
                              summaryFile: "path.json", recipe: recipe, samples: (trainSamples, selectionSamples, valSamples),
                              to: folder, title: title)
    }
}
