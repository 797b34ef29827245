import Images

/// An PlotColour colour.
struct PlotColour: Equatable {
    var r: UInt8, g: UInt8, b: UInt8
    static let white = PlotColour(r: 255, g: 255, b: 255)
    static let ink = PlotColour(r: 33, g: 37, b: 41)
    static let grey = PlotColour(r: 120, g: 120, b: 120)
    static let lightGrey = PlotColour(r: 232, g: 232, b: 232)
}

/// A small PlotColour drawing surface: filled rectangles and bitmap-font text (horizontal, or turned
/// 90 degrees to read bottom to top). Drawing outside the canvas is clipped.
struct PlotCanvas {
    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, background: PlotColour = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, w: width, h: height, background)
    }

    mutating func set(_ x: Int, _ y: Int, _ c: PlotColour) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let o = (y * width + x) * 3
        pixels[o] = c.r
        pixels[o + 1] = c.g
        pixels[o + 2] = c.b
    }

    mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: PlotColour) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { set(xx, yy, c) } }
    }

    /// One-pixel outline of a rectangle.
    mutating func frame(x: Int, y: Int, w: Int, h: Int, _ c: PlotColour) {
        fill(x: x, y: y, w: w, h: 1, c)
        fill(x: x, y: y + h - 1, w: w, h: 1, c)
        fill(x: x, y: y, w: 1, h: h, c)
        fill(x: x + w - 1, y: y, w: 1, h: h, c)
    }

    /// Text with its top-left corner at (x, y).
    mutating func text(_ s: String, x: Int, y: Int, _ c: PlotColour) {
        for (i, scalar) in s.unicodeScalars.enumerated() {
            for gx in 0..<BitmapFont.glyphWidth {
                for gy in 0..<BitmapFont.glyphHeight where BitmapFont.isSet(scalar, x: gx, y: gy) {
                    set(x + i * BitmapFont.advance + gx, y + gy, c)
                }
            }
        }
    }

    /// Text turned 90 degrees counter-clockwise (reads bottom to top): it starts at `bottom`
    /// and goes up; the glyph tops face `left`, so it spans x in left..<left+8.
    mutating func verticalText(_ s: String, left: Int, bottom: Int, _ c: PlotColour) {
        for (i, scalar) in s.unicodeScalars.enumerated() {
            for gx in 0..<BitmapFont.glyphWidth {
                for gy in 0..<BitmapFont.glyphHeight where BitmapFont.isSet(scalar, x: gx, y: gy) {
                    set(left + gy, bottom - (i * BitmapFont.advance + gx), c)
                }
            }
        }
    }

    /// The canvas enlarged `scale` times (nearest neighbour).
    func image(scale: Int) throws -> RGBImage {
        let s = max(1, scale)
        let w = width * s, h = height * s
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let sy = y / s
            for x in 0..<w {
                let si = (sy * width + x / s) * 3, di = (y * w + x) * 3
                out[di] = pixels[si]
                out[di + 1] = pixels[si + 1]
                out[di + 2] = pixels[si + 2]
            }
        }
        return try RGBImage(width: w, height: h, pixels: out)
    }
}
