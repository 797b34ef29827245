import CCairo
import Foundation
import Images

/// A keypoint pair drawn side by side: source left, target right (each shrunk to at most
/// `maxSide`), a line from each source keypoint to its predicted target point, green when the
/// prediction is within the threshold and red otherwise; the true target points as blue dots.
public struct KeypointPairPicture: Picture {
    public typealias Point = (x: Double, y: Double)
    public var source: RGBImage, target: RGBImage
    /// Pixel indices in the full-size images (drawn at pixel centres).
    public var sourcePoints: [Point], predictions: [Point], truths: [Point]
    public var correct: [Bool]
    public var maxSide: Int

    public init(source: RGBImage, target: RGBImage, sourcePoints: [Point], predictions: [Point], truths: [Point], correct: [Bool],
                maxSide: Int = 320) {
        (self.source, self.target, self.sourcePoints, self.predictions) = (source, target, sourcePoints, predictions)
        (self.truths, self.correct, self.maxSide) = (truths, correct, maxSide)
    }

    public func render() throws -> RGBImage {
        let a = try Thumbnail.downscaled(source, maxSide: maxSide), b = try Thumbnail.downscaled(target, maxSide: maxSide)
        let gap = 8, offset = Double(a.width + gap)
        let canvas = try Canvas(width: a.width + gap + b.width, height: max(a.height, b.height))
        try canvas.paint(a, x: 0, y: 0)
        try canvas.paint(b, x: a.width + gap, y: 0)
        let (sa, sb) = (Double(a.width) / Double(source.width), Double(b.width) / Double(target.width))
        func inSource(_ p: Point) -> CGPoint { CGPoint(x: (p.x + 0.5) * sa, y: (p.y + 0.5) * sa) }
        func inTarget(_ p: Point) -> CGPoint { CGPoint(x: offset + (p.x + 0.5) * sb, y: (p.y + 0.5) * sb) }
        for t in truths { canvas.line([inTarget(t)], PlotColour(40, 90, 230), width: 5) }
        for (i, (s, p)) in zip(sourcePoints, predictions).enumerated() {
            let colour = i < correct.count && correct[i] ? PlotColour(30, 170, 60) : PlotColour(220, 40, 40)
            canvas.line([inSource(s), inTarget(p)], colour, width: 1.5)
            canvas.line([inSource(s)], colour, width: 5)
            canvas.line([inTarget(p)], colour, width: 5)
        }
        return try canvas.image()
    }
}

extension Canvas {
    /// Paints `image` with its top-left corner at (x, y).
    func paint(_ image: RGBImage, x: Int, y: Int) throws {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(image.width), Int32(image.height)) else {
            throw PlotError.cairo("no image surface")
        }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let data = cairo_image_surface_get_data(surface) else {
            throw PlotError.cairo("no pixel data")
        }
        let stride = Int(cairo_image_surface_get_stride(surface)), raw = UnsafeMutableRawPointer(data)
        for row in 0..<image.height {
            for column in 0..<image.width {
                let o = (row * image.width + column) * 3
                let pixel = UInt32(image.pixels[o]) << 16 | UInt32(image.pixels[o + 1]) << 8 | UInt32(image.pixels[o + 2])
                raw.storeBytes(of: 0xFF00_0000 | pixel, toByteOffset: row * stride + column * 4, as: UInt32.self)
            }
        }
        cairo_surface_mark_dirty(surface)
        cairo_set_source_surface(cr, surface, Double(x), Double(y))
        cairo_paint(cr)
    }
}
