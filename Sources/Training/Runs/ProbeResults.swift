import Evaluation
import Heads

/// Where a probe's head came from and what it was fitted on: recorded beside the probe's own
/// record in its summary file (grid.json, path.json).
struct ProbeProvenance: Encodable {
    let recipe: FeatureRecipe
    let backbone: String
    let fingerprint: String
    let trainSamples: Int
    let selectionSamples: Int
    let valSamples: Int
}

/// A probe's record with the provenance fields at the same level.
private struct ProbeSummary<Record: Encodable>: Encodable {
    let record: Record
    let provenance: ProbeProvenance

    func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        try provenance.encode(to: encoder)
    }
}

/// Writes what every probe run leaves in its folder: head.safetensors, the val reports
/// (metrics.json, confusion.csv, confusion.png) and `record` with the head's provenance as JSON
/// in `summaryFile`, each whole or not at all. Returns the file names.
func writeProbeResults<Record: Encodable>(head: LinearClassifier, metrics: ClassificationMetrics, record: Record, summaryFile: String,
                                          recipe: FeatureRecipe, samples: (train: Int, selection: Int, val: Int),
                                          to folder: String, title: String) throws -> [String] {
    let provenance = ProbeProvenance(recipe: recipe, backbone: head.metadata.backboneID, fingerprint: head.metadata.backboneFingerprint,
                                     trainSamples: samples.train, selectionSamples: samples.selection, valSamples: samples.val)
    try head.save(to: folder + "/head.safetensors")
    try metrics.writeReports(to: folder, title: title)
    try MetricsReport.writeJSON(ProbeSummary(record: record, provenance: provenance), to: folder + "/" + summaryFile)
    return ["head.safetensors", "metrics.json", "confusion.csv", "confusion.png", summaryFile]
}
