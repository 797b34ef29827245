import Foundation

/// A metric built one image (or sample) at a time, then finished into a result that is written
/// as JSON (`MetricsReport`'s encoding) and shown as a text table.
public protocol MetricAccumulator {
    /// What one update reads (a predicted and a true mask; one sample's scores and label).
    associatedtype Sample
    associatedtype Result: MetricResult
    /// Adds one image or sample.
    mutating func update(_ sample: Sample) throws
    /// The metric over everything added so far.
    func finish() throws -> Result
}

/// A finished metric: its JSON keys are fixed by its `Encodable` conformance.
public protocol MetricResult: Encodable, Sendable {
    /// A text table for the terminal.
    func table(maxNameWidth: Int) -> String
}

extension MetricResult {
    /// The result as JSON (sorted keys; non-finite numbers as `null`).
    public func jsonData() throws -> Data { try MetricsReport.jsonData(self) }
    /// Writes `jsonData()` whole or not at all.
    public func writeJSON(to path: String) throws { try MetricsReport.writeJSON(self, to: path) }
}

extension ClassificationMetrics: MetricResult {}
extension SegmentationResult: MetricResult {}

extension SegmentationMetrics: MetricAccumulator {
    /// Adds one image: its predicted classes and its labels (same size).
    public mutating func update(_ sample: (prediction: [UInt8], label: [UInt8])) throws {
        try add(prediction: sample.prediction, label: sample.label)
    }

    public func finish() -> SegmentationResult { result() }
}

