/// An opaque sRGB colour with 8-bit channels.
struct PlotColour: Equatable, Hashable, Sendable {
    var r: UInt8, g: UInt8, b: UInt8

    init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

    /// From 0xRRGGBB.
    init(hex: UInt32) { self.init(UInt8(hex >> 16 & 0xFF), UInt8(hex >> 8 & 0xFF), UInt8(hex & 0xFF)) }

    /// Channel `i`: 0 red, 1 green, 2 blue.
    subscript(i: Int) -> UInt8 { i == 0 ? r : i == 1 ? g : b }

    /// This colour three quarters of the way to white (drawn lines stay opaque).
    var faded: PlotColour {
        func fade(_ c: UInt8) -> UInt8 { UInt8((Int(c) + 3 * 255) / 4) }
        return PlotColour(fade(r), fade(g), fade(b))
    }

    static let white = PlotColour(255, 255, 255)
    static let ink = PlotColour(33, 37, 41)
    static let grey = PlotColour(120, 120, 120)
    static let gridLine = PlotColour(222, 222, 222)
    static let minorGridLine = PlotColour(242, 242, 242)
    /// Cells of confusion rows without samples.
    static let noSamples = PlotColour(215, 215, 215)

    /// The white-to-blue ramp of `ConfusionPlot` (matplotlib's "Blues" in five stops) at share
    /// `t` (clamped to 0...1, NaN as 0): the stops (247,251,255), (198,219,239), (107,174,214),
    /// (33,113,181), (8,48,107) sit at t = 0, 1/4, 1/2, 3/4, 1; between two stops each channel
    /// is interpolated linearly and rounded to the nearest integer (halves up).
    static func blues(_ t: Double) -> PlotColour {
        let stops: [(Double, Double, Double)] = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]
        let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: Double, _ q: Double) -> UInt8 { UInt8((p + (q - p) * f).rounded()) }
        return PlotColour(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// Line colours of `LossCurvePlot`, in series order: matplotlib's ten "tab10" colours, then
    /// black, indigo and gold (13 distinguishable colours); series 14 on reuse them dashed.
    static let series: [PlotColour] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
        0x000000, 0x393B79, 0xE7BA52,
    ].map { PlotColour(hex: $0) }
}
