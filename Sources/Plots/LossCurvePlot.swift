import Evaluation
import Foundation
import Images

/// Training curves: one line per series (e.g. one per learning rate of a head grid) over the
/// training step, with a legend, grid lines and tick labels; on a log-scaled y axis (the
/// default) the ticks sit at powers of ten (at 1, 2, 5 times them when the range spans less
/// than two). Lines take matplotlib's "tab10" colours, then black, indigo and gold: 13
/// distinguishable colours, after which they repeat dashed.
///
/// Points whose value is NaN or infinite (or not positive, on a log axis) are left out and
/// break the line, so a diverged series ends where it diverged. Points are drawn in step order;
/// thousands per series are fine (each line keeps, per pixel column, its first, lowest, highest
/// and last point).
public struct LossCurvePlot: Picture, Sendable {
    /// One line: `values[i]` at `steps[i]`.
    public struct Series: Sendable {
        public var label: String
        public var steps: [Int]
        public var values: [Float]

        public init(label: String, steps: [Int], values: [Float]) {
            (self.label, self.steps, self.values) = (label, steps, values)
        }
    }

    public let series: [Series]
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logScale: Bool

    /// Throws `MetricsError` when there is no series or a series has not as many values as steps.
    public init(series: [Series], title: String, xLabel: String = "step", yLabel: String = "loss", logScale: Bool = true) throws {
        guard !series.isEmpty else { throw MetricsError.empty("loss curve plot without series") }
        for s in series where s.steps.count != s.values.count {
            throw MetricsError.shapeMismatch("series \"\(s.label)\" has \(s.steps.count) steps but \(s.values.count) values")
        }
        (self.series, self.title, self.xLabel, self.yLabel, self.logScale) = (series, title, xLabel, yLabel, logScale)
    }

    /// The picture.
    public func render() throws -> RGBImage {
        let layout = try LossCurveLayout(plot: self)
        let canvas = try Canvas(width: layout.width, height: layout.height)
        draw(on: canvas, layout)
        return try canvas.image()
    }

    /// Whether `value` can be drawn on this plot's y axis.
    func plottable(_ value: Float) -> Bool { value.isFinite && (!logScale || value > 0) }

    /// The plottable points of series `i` in step order (stable for equal steps), nil where a
    /// value cannot be drawn.
    func points(_ i: Int) -> [(step: Int, value: Float)?] {
        let s = series[i]
        return s.steps.indices.sorted { (s.steps[$0], $0) < (s.steps[$1], $1) }
            .map { plottable(s.values[$0]) ? (s.steps[$0], s.values[$0]) : nil }
    }
}
