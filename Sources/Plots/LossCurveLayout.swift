import Foundation

/// Where everything of a `LossCurvePlot` goes, in pixels: the plot area (640 x 400), its axes,
/// and the legend on its right (the picture grows taller when the legend needs it).
struct LossCurveLayout {
    static let legendLine = 18
    static let legendSample = 24
    static let plotSize = (width: 640, height: 400)

    let x: AxisScale
    let y: AxisScale
    let labels: [String]
    /// The plot area (lines are clipped to it).
    let plot: CGRect
    let legendX: Int
    let titleBand: Int
    let width: Int
    let height: Int

    init(plot p: LossCurvePlot) throws {
        let font = try Canvas.measuring()
        let m = PlotStyle.margin
        let all = p.series.indices.flatMap { p.points($0).compactMap { $0 } }
        x = AxisScale(values: all.map { Double($0.step) }, log: false, padding: 0, integer: true)
        y = AxisScale(values: all.map { Double($0.value) }, log: p.logScale, padding: 0.05)
        labels = p.series.map { PlotLabel.shortened($0.label, maxLength: 32, font: font) }
        let line = Int(font.lineHeight(size: PlotStyle.textSize).rounded(.up))
        titleBand = Int(font.lineHeight(size: PlotStyle.titleSize).rounded(.up)) + 12
        let yTickWidth = Int((y.ticks.map { font.textWidth(AxisScale.label($0), size: PlotStyle.textSize) }.max() ?? 0).rounded(.up))
        let left = m + line + 6 + yTickWidth + 6
        let top = m + titleBand
        plot = CGRect(x: left, y: top, width: Self.plotSize.width, height: Self.plotSize.height)
        legendX = left + Self.plotSize.width + 16
        let legendText = Int((labels.map { font.textWidth($0, size: PlotStyle.textSize) }.max() ?? 0).rounded(.up)) + 1
        let titleWidth = Int(font.textWidth(p.title, size: PlotStyle.titleSize, bold: true).rounded(.up))
        width = max(legendX + Self.legendSample + 6 + legendText, m + titleWidth) + m
        height = max(top + Self.plotSize.height + 6 + line + 6 + line, top + Self.legendLine * labels.count) + m
    }

    /// Where (step, value) is drawn (may lie outside the plot area only for unplottable input).
    func point(step: Int, value: Float) -> CGPoint {
        CGPoint(x: plot.minX + x.fraction(Double(step)) * plot.width, y: plot.maxY - y.fraction(Double(value)) * plot.height)
    }

    /// Middle of legend line `i`.
    func legendY(_ i: Int) -> Double { plot.minY + Double(Self.legendLine * i) + Double(Self.legendLine) / 2 }
}
