import Foundation
import Images

/// Pictures of segmentations: class-colour overlays with a legend.
public enum SegmentationRendering {
    /// Fraction of the pixels of each class present in `mask`, largest first (the ignore index left out).
    public static func classAreas(_ mask: [UInt8], classes: Int, ignoreIndex: UInt8 = 255) -> [(label: Int, fraction: Double)] {
        var counts = [Int](repeating: 0, count: 256)
        for v in mask { counts[Int(v)] += 1 }
        let total = Double(mask.count)
        return (0..<min(classes, 256)).filter { counts[$0] > 0 && UInt8($0) != ignoreIndex }
            .map { ($0, Double(counts[$0]) / total) }
            .sorted { $0.fraction > $1.fraction || ($0.fraction == $1.fraction && $0.label < $1.label) }
    }

    /// The image blended half-and-half with its class colours, and a legend panel on the right
    /// listing the classes present (colour, name, share of the image).
    public static func overlay(image: RGBImage, mask: [UInt8], palette: [UInt8], classNames: [String],
                               ignoreIndex: UInt8 = 255) throws -> RGBImage {
        let (w, h) = (image.width, image.height)
        var blended = image.pixels
        for i in 0..<(w * h) {
            let label = Int(mask[i])
            guard UInt8(label) != ignoreIndex, label * 3 + 2 < palette.count else { continue }
            for c in 0..<3 {
                blended[i * 3 + c] = UInt8((Int(image.pixels[i * 3 + c]) + Int(palette[label * 3 + c]) + 1) / 2)
            }
        }
        let areas = classAreas(mask, classes: classNames.count, ignoreIndex: ignoreIndex)
        let entries = areas.map { (colour: $0.label * 3 + 2 < palette.count ? Array(palette[($0.label * 3)..<($0.label * 3 + 3)]) : [0, 0, 0],
                                   text: String(format: "%@ %.1f%%", String(classNames[$0.label].prefix(22)), 100 * $0.fraction)) }
        let scale = max(1, min(3, h / 240))
        let lineHeight = (BitmapFont.glyphHeight + 6)
        let legendWidth = (12 + 6 + (entries.map(\.text.count).max() ?? 0) * BitmapFont.advance + 8)
        var legend = PlotCanvas(width: legendWidth, height: max(h / scale, entries.count * lineHeight + 10))
        legend.text("classes", x: 4, y: 4, .ink)
        for (i, e) in entries.enumerated() {
            let y = 6 + (i + 1) * lineHeight
            legend.fill(x: 4, y: y - 1, w: 12, h: BitmapFont.glyphHeight + 2, PlotColour(r: e.colour[0], g: e.colour[1], b: e.colour[2]))
            legend.frame(x: 4, y: y - 1, w: 12, h: BitmapFont.glyphHeight + 2, .grey)
            legend.text(e.text, x: 22, y: y, .ink)
        }
        let panel = try legend.image(scale: scale)
        let outW = w + panel.width, outH = max(h, panel.height)
        var out = [UInt8](repeating: 255, count: outW * outH * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { out[(y * outW + x) * 3 + c] = blended[(y * w + x) * 3 + c] } } }
        for y in 0..<panel.height {
            for x in 0..<panel.width { for c in 0..<3 { out[(y * outW + w + x) * 3 + c] = panel.pixels[(y * panel.width + x) * 3 + c] } }
        }
        return try RGBImage(width: outW, height: outH, pixels: out)
    }
}
