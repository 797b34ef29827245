import Foundation
import Support

/// The per-step record of a training loop: for every optimizer step, each series' learning rate
/// and loss (one series per head of a grid; one for a single head). Non-finite losses (a
/// diverged head) are kept as they are.
public struct TrainingLog: Sendable, Equatable {
    /// A name per series (e.g. each head's base learning rate).
    public let series: [String]
    /// [steps][series], row-major.
    public private(set) var learningRates: [Float] = []
    /// [steps][series], row-major.
    public private(set) var losses: [Float] = []

    public init(series: [String]) {
        self.series = series
    }

    /// Steps recorded.
    public var steps: Int { series.isEmpty ? 0 : losses.count / series.count }

    /// Records one step.
    public mutating func append(learningRates rates: [Float], losses values: [Float]) {
        learningRates += rates
        losses += values
    }

    /// Series `s`'s losses, one per step.
    public func losses(ofSeries s: Int) -> [Float] {
        stride(from: s, to: losses.count, by: series.count).map { losses[$0] }
    }

    /// CSV in long form, one row per step and series: `step,series,learning_rate,loss`
    /// (steps from 1; `nan`/`inf` for non-finite losses).
    public func csv() -> String {
        var csv = CSVWriter(header: ["step", "series", "learning_rate", "loss"])
        for step in 0..<steps {
            for (s, name) in series.enumerated() {
                let i = step * series.count + s
                csv.row([.int(step + 1), .text(name), .float(learningRates[i]), .float(losses[i])])
            }
        }
        return csv.text
    }
}

extension TrainingLog: Resumable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.floats[prefix + ".learning_rates"] = learningRates
        state.floats[prefix + ".losses"] = losses
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        let rates = try state.floats(prefix + ".learning_rates", count: state.floats[prefix + ".learning_rates"]?.count ?? -1)
        let values = try state.floats(prefix + ".losses", count: rates.count)
        guard !series.isEmpty, values.count % series.count == 0 else {
            throw HeadError.badTrainingState(path: "", reason: "the training log does not have \(series.count) series")
        }
        (learningRates, losses) = (rates, values)
    }
}
