import Foundation

/// Sizes shared by the charts: margins and the type sizes of titles and other text.
enum PlotStyle {
    /// White space around a chart, in pixels.
    static let margin = 16
    static let titleSize = 16.0
    static let textSize = 12.0
}

extension Canvas {
    /// A chart's title in bold at the top-left margin.
    func title(_ text: String) {
        let m = Double(PlotStyle.margin)
        self.text(text, at: CGPoint(x: m, y: m), size: PlotStyle.titleSize, .ink, bold: true, baseline: .top)
    }
}
