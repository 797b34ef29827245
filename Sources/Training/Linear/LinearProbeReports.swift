import Evaluation
import Foundation
import Heads
import Plots
import Support

extension LinearProbeOutcome {
    /// What `grid.json` records about a run.
    struct Summary: Encodable {
        let settings: LinearProbeSettings
        let grid: GridResult
        let recipe: FeatureRecipe
        let backbone: String
        let fingerprint: String
        let trainSamples: Int
        let selectionSamples: Int
        let valSamples: Int
    }

    /// Saves the run's results in `folder`: head.safetensors, metrics.json, confusion.csv,
    /// confusion.png, grid.json and train_log.csv (each written whole or not at all). Returns
    /// the file names.
    @discardableResult
    public func write(to folder: String, title: String) throws -> [String] {
        let summary = Summary(settings: settings, grid: grid, recipe: recipe, backbone: head.metadata.backboneID,
                              fingerprint: head.metadata.backboneFingerprint, trainSamples: trainSamples,
                              selectionSamples: selectionSamples, valSamples: valSamples)
        let files = try writeProbeResults(head: head, metrics: valMetrics, summary: summary, summaryFile: "grid.json", to: folder, title: title)
        try AtomicFile.write(Data(log.csv().utf8), to: folder + "/train_log.csv")
        return files + ["train_log.csv"]
    }
}
