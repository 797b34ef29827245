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

/// Names as the plots show them.
enum PlotLabel {
    /// `name` with control and invisible format characters, and characters the plot font
    /// (DejaVu Sans) has no glyph for, shown as '?', and cut to `maxLength` characters (at
    /// least 5) by keeping its start and end around "..": the start says what it is, the end
    /// often tells similar names apart. Other non-ASCII text (accents, Greek, Cyrillic) stays.
    static func shortened(_ name: String, maxLength: Int, font: Canvas) -> String {
        let shown = String(name.map { ch -> Character in
            let invisible = ch.unicodeScalars.contains { s in
                s.properties.generalCategory == .control || s.properties.generalCategory == .format
                    || s.properties.generalCategory == .lineSeparator || s.properties.generalCategory == .paragraphSeparator
            }
            return invisible || !font.hasGlyphs(ch) ? "?" : ch
        })
        let limit = max(5, maxLength)
        guard shown.count > limit else { return shown }
        let tail = (limit - 2) * 2 / 5
        return String(shown.prefix(limit - 2 - tail)).trimmingCharacters(in: .whitespaces) + ".."
            + String(shown.suffix(tail)).trimmingCharacters(in: .whitespaces)
    }
}
