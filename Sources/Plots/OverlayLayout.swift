import Foundation

/// Where the legend of a segmentation overlay goes: a panel right of the image, as wide as its
/// longest entry; the picture is as tall as the image or the legend, whichever is more.
struct OverlayLayout {
    struct Entry {
        var colour: PlotColour
        var text: String
    }

    struct Slot {
        var swatch: CGRect
        var text: CGRect
    }

    let imageWidth: Int
    let imageHeight: Int
    /// 1 for images up to 479 pixels high, up to 3 for tall ones (larger type and swatches).
    let scale: Int
    let fontSize: Double
    let entries: [Entry]
    let headerOrigin: CGPoint
    let slots: [Slot]
    let panelX: Int
    let width: Int
    let height: Int
    /// Height of the legend's content (the panel below it is white).
    let legendHeight: Int

    init(imageWidth: Int, imageHeight: Int, entries: [Entry]) throws {
        let font = try Canvas.measuring()
        let s = max(1, min(3, imageHeight / 240))
        (self.imageWidth, self.imageHeight, self.entries, scale) = (imageWidth, imageHeight, entries, s)
        let fontSize = 12 * Double(s)
        self.fontSize = fontSize
        let pad = 8 * s, swatch = 14 * s, line = 20 * s
        let panelX = imageWidth
        self.panelX = panelX
        let textX = panelX + pad + swatch + 6 * s
        let widest = entries.map { font.textWidth($0.text, size: fontSize) } + [font.textWidth("classes", size: fontSize, bold: true)]
        let textWidth = Int((widest.max() ?? 0).rounded(.up)) + 1
        headerOrigin = CGPoint(x: panelX + pad, y: pad + line / 2)
        slots = entries.indices.map { i in
            let top = pad + line * (i + 1)
            return Slot(swatch: CGRect(x: panelX + pad, y: top + (line - swatch) / 2, width: swatch, height: swatch),
                        text: CGRect(x: textX, y: top, width: textWidth, height: line))
        }
        width = textX + textWidth + pad
        legendHeight = pad + line * (entries.count + 1) + pad
        height = max(imageHeight, legendHeight)
    }
}
