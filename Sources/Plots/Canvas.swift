import CCairo
import Foundation
import Images

/// A cairo ARGB32 image surface painted opaque white, with the few shapes the plots need.
/// Everything drawn is opaque, so the surface never holds partial alpha and `image()` needs no
/// un-premultiplying. Coordinates are pixels, (0, 0) the top-left corner; a filled rectangle
/// with whole-number edges covers exactly its pixels.
final class Canvas {
    /// Largest side and area drawn (larger pictures throw `PlotError.tooLarge`).
    static let maxSide = 16_384
    static let maxPixels = 64 << 20

    let width: Int
    let height: Int
    private let surface: OpaquePointer
    let cr: OpaquePointer

    init(width: Int, height: Int) throws {
        guard (1...Self.maxSide).contains(width), (1...Self.maxSide).contains(height), width * height <= Self.maxPixels else {
            throw PlotError.tooLarge(width: width, height: height)
        }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            throw PlotError.cairo("no image surface")
        }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS, let cr = cairo_create(surface) else {
            cairo_surface_destroy(surface)
            throw PlotError.cairo(Self.message(status))
        }
        (self.width, self.height, self.surface, self.cr) = (width, height, surface, cr)
        let contextStatus = cairo_status(cr)
        guard contextStatus == CAIRO_STATUS_SUCCESS else { throw PlotError.cairo(Self.message(contextStatus)) }
        setUpFont()
        fill(CGRect(x: 0, y: 0, width: width, height: height), .white)
    }

    /// A 1x1 canvas for measuring text.
    static func measuring() throws -> Canvas { try Canvas(width: 1, height: 1) }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    private static func message(_ status: cairo_status_t) -> String {
        cairo_status_to_string(status).map { String(cString: $0) } ?? "cairo status \(status.rawValue)"
    }

    func setColour(_ c: PlotColour) {
        cairo_set_source_rgb(cr, Double(c.r) / 255, Double(c.g) / 255, Double(c.b) / 255)
    }

    func fill(_ rect: CGRect, _ colour: PlotColour) {
        setColour(colour)
        cairo_rectangle(cr, rect.minX, rect.minY, rect.width, rect.height)
        cairo_fill(cr)
    }

    /// A one-pixel outline just inside `rect` (whole-number edges give crisp lines).
    func frame(_ rect: CGRect, _ colour: PlotColour) {
        setColour(colour)
        cairo_set_line_width(cr, 1)
        cairo_rectangle(cr, rect.minX + 0.5, rect.minY + 0.5, rect.width - 1, rect.height - 1)
        cairo_stroke(cr)
    }

    /// A polyline with round joins and caps; `dash` is the on/off pattern (empty: solid).
    func line(_ points: [CGPoint], _ colour: PlotColour, width: Double, dash: [Double] = []) {
        guard let first = points.first else { return }
        setColour(colour)
        cairo_set_line_width(cr, width)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
        cairo_set_dash(cr, dash, Int32(dash.count), 0)
        cairo_move_to(cr, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        if points.count == 1 { cairo_line_to(cr, first.x, first.y) } // a dot
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    /// Moves the origin: what is drawn at (x, y) lands at (x + dx, y + dy).
    func translate(dx: Double, dy: Double) { cairo_translate(cr, dx, dy) }

    /// Restricts drawing to `rect` until `unclip()`.
    func clip(_ rect: CGRect) {
        cairo_save(cr)
        cairo_rectangle(cr, rect.minX, rect.minY, rect.width, rect.height)
        cairo_clip(cr)
    }

    func unclip() { cairo_restore(cr) }

    /// The surface as RGB bytes.
    func image() throws -> RGBImage {
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { throw PlotError.cairo("no pixel data") }
        let stride = Int(cairo_image_surface_get_stride(surface))
        let raw = UnsafeRawPointer(data)
        let (w, h) = (width, height)
        let out = [UInt8](unsafeUninitializedCapacity: w * h * 3) { buffer, initialized in
            for y in 0..<h {
                for x in 0..<w {
                    // Native-endian 0xAARRGGBB; alpha is 255 everywhere (opaque background).
                    let p = raw.load(fromByteOffset: y * stride + x * 4, as: UInt32.self)
                    let o = (y * w + x) * 3
                    buffer[o] = UInt8(truncatingIfNeeded: p >> 16)
                    buffer[o + 1] = UInt8(truncatingIfNeeded: p >> 8)
                    buffer[o + 2] = UInt8(truncatingIfNeeded: p)
                }
            }
            initialized = w * h * 3
        }
        return try RGBImage(width: width, height: height, pixels: out)
    }
}
