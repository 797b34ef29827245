import Evaluation
import Foundation
import Heads
import Plots
import Support

extension LinearProbeOutcome {
    /// What `grid.json` records about a run (with the head's provenance beside it).
    struct Record: Encodable {
        let settings: LinearProbeSettings
        let grid: GridResult
    }

    /// Saves the run's results in `folder`: head.safetensors, metrics.json, confusion.csv,
    /// confusion.png, grid.json and train_log.csv (each written whole or not at all). Returns
    /// the file names.
    @discardableResult
    public func write(to folder: String, title: String) throws -> [String] {
        let files = try writeProbeResults(head: head, metrics: valMetrics, record: Record(settings: settings, grid: grid), summaryFile: "grid.json",
                                          recipe: recipe, samples: (trainSamples, selectionSamples, valSamples), to: folder, title: title)
        try AtomicFile.write(Data(log.csv().utf8), to: folder + "/train_log.csv")
        return files + ["train_log.csv"]
    }
}
