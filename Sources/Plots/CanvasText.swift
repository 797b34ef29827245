import CCairo
import Foundation

/// How text sits on its anchor point, along the text and across it.
enum TextAlign { case start, centre, end }
enum TextBaseline { case top, middle }

extension Canvas {
    /// The font of every plot: DejaVu Sans (Debian's fonts-dejavu-core) through fontconfig,
    /// grey-level anti-aliased, unhinted so that measured widths do not depend on the size.
    static let fontFamily = "DejaVu Sans"

    func setUpFont() {
        guard let options = cairo_font_options_create() else { return }
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_set_font_options(cr, options)
        cairo_font_options_destroy(options)
        setFont(size: 12)
    }

    func setFont(size: Double, bold: Bool = false) {
        cairo_select_font_face(cr, Self.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// Advance width of `text` in pixels.
    func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
        setFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        return extents.x_advance
    }

    /// Height of a line of text (ascent + descent) in pixels.
    func lineHeight(size: Double) -> Double {
        setFont(size: size)
        var extents = cairo_font_extents_t()
        cairo_font_extents(cr, &extents)
        return extents.ascent + extents.descent
    }

    /// Whether the font has a glyph for every scalar of `character`.
    func hasGlyphs(_ character: Character) -> Bool {
        setFont(size: 12)
        guard let font = cairo_get_scaled_font(cr) else { return false }
        var glyphs: UnsafeMutablePointer<cairo_glyph_t>?
        var count: Int32 = 0
        let utf8 = String(character)
        let status = cairo_scaled_font_text_to_glyphs(font, 0, 0, utf8, Int32(utf8.utf8.count), &glyphs, &count, nil, nil, nil)
        defer { cairo_glyph_free(glyphs) }
        guard status == CAIRO_STATUS_SUCCESS, let glyphs, count > 0 else { return false }
        return (0..<Int(count)).allSatisfy { glyphs[$0].index != 0 }
    }

    /// Draws `text` anchored at `point`: `align` along the text, `baseline` across it; `angle`
    /// in radians turns it about the anchor (-pi/2 reads bottom to top).
    func text(_ text: String, at point: CGPoint, size: Double, _ colour: PlotColour, bold: Bool = false,
              align: TextAlign = .start, baseline: TextBaseline = .middle, angle: Double = 0) {
        setFont(size: size, bold: bold)
        var font = cairo_font_extents_t()
        cairo_font_extents(cr, &font)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        let dx: Double
        switch align {
        case .start: dx = 0
        case .centre: dx = -extents.x_advance / 2
        case .end: dx = -extents.x_advance
        }
        let dy = baseline == .top ? font.ascent : (font.ascent - font.descent) / 2
        setColour(colour)
        cairo_save(cr)
        cairo_translate(cr, point.x, point.y)
        cairo_rotate(cr, angle)
        cairo_move_to(cr, dx, dy)
        cairo_show_text(cr, text)
        cairo_restore(cr)
    }
}
