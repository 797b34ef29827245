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

/// Classification metrics accumulated one sample at a time (scores over the classes and the
/// true label), finished into `ClassificationMetrics`.
public struct ClassificationAccumulator: MetricAccumulator, Sendable {
    public let classNames: [String]
    private var scores: [Float] = []
    private var labels: [Int] = []

    public init(classNames: [String]) { self.classNames = classNames }

    /// Adds one sample: its score for every class, and its true class.
    public mutating func update(_ sample: (scores: [Float], label: Int)) throws {
        guard sample.scores.count == classNames.count else {
            throw MetricsError.shapeMismatch("\(sample.scores.count) scores for \(classNames.count) classes")
        }
        scores += sample.scores
        labels.append(sample.label)
    }

    public func finish() throws -> ClassificationMetrics { try ClassificationMetrics(scores: scores, labels: labels, classNames: classNames) }
}
