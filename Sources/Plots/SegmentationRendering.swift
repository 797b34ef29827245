import Evaluation
import Foundation
import Images

/// Pictures of segmentations: class-colour overlays with a legend.
public enum SegmentationRendering {
    /// Fraction of the pixels of each class present in `mask`, largest first (the ignore index left out).
    public static func classAreas(_ mask: [UInt8], classes: Int, ignoreIndex: UInt8 = 255) -> [(label: Int, fraction: Double)] {
        var counts = [Int](repeating: 0, count: 256)
        for v in mask { counts[Int(v)] += 1 }
        let total = Double(mask.count)
        return (0..<max(0, min(classes, 256))).filter { counts[$0] > 0 && UInt8($0) != ignoreIndex }
            .map { ($0, Double(counts[$0]) / total) }
            .sorted { $0.fraction > $1.fraction || ($0.fraction == $1.fraction && $0.label < $1.label) }
    }

    /// The image blended half-and-half with its class colours (each channel
    /// `(image + palette + 1) / 2`, integer division; pixels of `ignoreIndex` or of labels
    /// without a palette colour stay as they are), and a legend panel on the right listing the
    /// classes present, largest first (colour swatch, name, share of the image). The legend is
    /// never cut: the picture grows to hold it, taller than the image when needed, the space
    /// under the image left white. `palette` holds RGB triples, class i at 3i; `mask` one label
    /// per pixel, row-major.
    public static func overlay(image: RGBImage, mask: [UInt8], palette: [UInt8], classNames: [String],
                               ignoreIndex: UInt8 = 255) throws -> RGBImage {
        let (w, h) = (image.width, image.height)
        guard mask.count == w * h, image.pixels.count == w * h * 3 else {
            throw MetricsError.shapeMismatch("mask of \(mask.count) labels for a \(w)x\(h) image")
        }
        let layout = try legendLayout(image: image, mask: mask, palette: palette, classNames: classNames, ignoreIndex: ignoreIndex)
        // Only the legend goes through cairo: the image may be larger than a canvas can be.
        let legend = try Canvas(width: layout.width - layout.panelX, height: layout.legendHeight)
        legend.translate(dx: -Double(layout.panelX), dy: 0)
        drawLegend(on: legend, layout)
        let panel = try legend.image()
        var out = [UInt8](repeating: 255, count: layout.width * layout.height * 3)
        for y in 0..<panel.height {
            let row = y * panel.width * 3
            out.replaceSubrange(((y * layout.width + layout.panelX) * 3)..<((y + 1) * layout.width * 3),
                                with: panel.pixels[row..<(row + panel.width * 3)])
        }
        for i in 0..<(w * h) {
            let o = ((i / w) * layout.width + i % w) * 3
            let tint = mask[i] == ignoreIndex ? nil : colour(Int(mask[i]), palette)
            for ch in 0..<3 {
                let p = Int(image.pixels[i * 3 + ch])
                out[o + ch] = tint.map { UInt8((p + Int($0[ch]) + 1) / 2) } ?? UInt8(p)
            }
        }
        return try RGBImage(width: layout.width, height: layout.height, pixels: out)
    }

    /// Where `overlay` puts its legend entries, and how large the picture is.
    static func legendLayout(image: RGBImage, mask: [UInt8], palette: [UInt8], classNames: [String],
                             ignoreIndex: UInt8 = 255) throws -> OverlayLayout {
        let font = try Canvas.measuring()
        let entries = classAreas(mask, classes: classNames.count, ignoreIndex: ignoreIndex).map { area in
            OverlayLayout.Entry(colour: colour(area.label, palette) ?? PlotColour(0, 0, 0),
                                text: PlotLabel.shortened(classNames[area.label], maxLength: 28, font: font)
                                    + String(format: " %.1f%%", 100 * area.fraction))
        }
        return try OverlayLayout(imageWidth: image.width, imageHeight: image.height, entries: entries)
    }

    /// Class `label`'s colour in `palette`, if it has one.
    private static func colour(_ label: Int, _ palette: [UInt8]) -> PlotColour? {
        label * 3 + 2 < palette.count ? PlotColour(palette[label * 3], palette[label * 3 + 1], palette[label * 3 + 2]) : nil
    }

    private static func drawLegend(on canvas: Canvas, _ l: OverlayLayout) {
        canvas.text("classes", at: l.headerOrigin, size: l.fontSize, .ink, bold: true)
        for (entry, slot) in zip(l.entries, l.slots) {
            canvas.fill(slot.swatch, entry.colour)
            canvas.frame(slot.swatch, .grey)
            canvas.text(entry.text, at: CGPoint(x: slot.text.minX, y: slot.text.midY), size: l.fontSize, .ink)
        }
    }
}
