import Foundation

/// Where everything goes, in unscaled pixels.
struct ConfusionPlotLayout {
    static let margin = 10
    let k: Int
    let cell: Int
    let showNames: Bool
    let labels: [String]
    let labelWidth: Int
    let matrixX: Int
    let matrixY: Int
    let barX: Int
    let width: Int
    let height: Int
    let subtitle: String

    init(plot: ConfusionPlot) {
        let m = Self.margin
        k = plot.classNames.count
        let fitting = 760 / k
        showNames = fitting >= 8 || k <= 120
        cell = showNames ? min(40, max(10, fitting)) : max(2, 1200 / k)
        labels = showNames ? plot.classNames.map(plot.label) : []
        labelWidth = labels.map(BitmapFont.width(of:)).max() ?? 0
        let emptyRows = plot.confusion.contains { $0.allSatisfy { $0 == 0 } } ? ", grey: no samples" : ""
        subtitle = (showNames ? "rows: true class, columns: predicted, colour: share of the row"
            : "rows: true class, columns: predicted (\(k) classes, names left out)") + emptyRows
        let side = k * cell
        matrixX = m + BitmapFont.lineHeight + 6 + labelWidth + (showNames ? 6 : 0)
        matrixY = m + 2 * BitmapFont.lineHeight + 10
        barX = matrixX + side + 12
        let barRight = barX + 10 + 4 + BitmapFont.width(of: "100%")
        let textRight = m + max(BitmapFont.width(of: plot.title) + 1, BitmapFont.width(of: subtitle))
        width = max(barRight, textRight) + m + 4
        height = matrixY + side + 6 + labelWidth + (showNames ? 8 : 2) + BitmapFont.lineHeight + m
    }
}

extension PlotColour {
    /// A white-to-blue ramp (like matplotlib's "Blues") for t in 0...1.
    static func blues(_ t: Double) -> PlotColour {
        let stops: [(Double, Double, Double)] = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]
        let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: Double, _ q: Double) -> UInt8 { UInt8((p + (q - p) * f).rounded()) }
        return PlotColour(r: mix(a.0, b.0), g: mix(a.1, b.1), b: mix(a.2, b.2))
    }
}

extension ConfusionPlot {
    func draw(on canvas: inout PlotCanvas, _ l: ConfusionPlotLayout) {
        let m = ConfusionPlotLayout.margin, lh = BitmapFont.lineHeight, side = l.k * l.cell
        canvas.text(title, x: m, y: m, .ink)
        canvas.text(title, x: m + 1, y: m, .ink) // bold
        canvas.text(l.subtitle, x: m, y: m + lh + 2, .grey)

        // Cells, with a one-pixel white gap between them when they are big enough.
        let gap = l.cell >= 8 ? 1 : 0
        for t in 0..<l.k {
            let rowSum = confusion[t].reduce(0, +)
            for p in 0..<l.k {
                let count = confusion[t][p]
                let share = rowSum > 0 ? Double(count) / Double(rowSum) : 0
                let colour = rowSum > 0 ? PlotColour.blues(share) : .lightGrey
                let x = l.matrixX + p * l.cell, y = l.matrixY + t * l.cell
                canvas.fill(x: x, y: y, w: l.cell - gap, h: l.cell - gap, colour)
                guard count > 0 else { continue }
                let digits = String(count)
                let w = BitmapFont.width(of: digits)
                guard w <= l.cell - gap - 4, BitmapFont.glyphHeight - 1 <= l.cell - gap - 3 else { continue }
                let ink: PlotColour = share > 0.5 ? .white : .ink
                canvas.text(digits, x: x + (l.cell - gap - w + 1) / 2, y: y + (l.cell - gap - 7) / 2, ink)
            }
        }
        canvas.frame(x: l.matrixX - 1, y: l.matrixY - 1, w: side + 1 + (gap == 0 ? 1 : 0),
                     h: side + 1 + (gap == 0 ? 1 : 0), .grey)

        // Class names: right-aligned before each row; upright under each column.
        for (i, name) in l.labels.enumerated() {
            let w = BitmapFont.width(of: name)
            let centre = i * l.cell + (l.cell - gap) / 2
            canvas.text(name, x: l.matrixX - 6 - w, y: l.matrixY + centre - 3, .ink)
            canvas.verticalText(name, left: l.matrixX + centre - 3, bottom: l.matrixY + side + 5 + w, .ink)
        }

        // Axis titles.
        let trueTitle = "true class", predictedTitle = "predicted class"
        let tw = BitmapFont.width(of: trueTitle), pw = BitmapFont.width(of: predictedTitle)
        canvas.verticalText(trueTitle, left: m, bottom: l.matrixY + (side + tw) / 2, .grey)
        let bottomY = l.matrixY + side + 6 + l.labelWidth + (l.showNames ? 8 : 2)
        canvas.text(predictedTitle, x: max(m, l.matrixX + (side - pw) / 2), y: bottomY, .grey)

        // Colour bar: share of the row from 0% (bottom) to 100% (top).
        for y in 0..<side {
            canvas.fill(x: l.barX, y: l.matrixY + y, w: 10, h: 1, PlotColour.blues(1 - Double(y) / Double(max(1, side - 1))))
        }
        canvas.frame(x: l.barX - 1, y: l.matrixY - 1, w: 12, h: side + 2, .grey)
        canvas.text("100%", x: l.barX + 14, y: l.matrixY, .ink)
        canvas.text("0%", x: l.barX + 14, y: l.matrixY + side - 8, .ink)
        if side >= 60 { canvas.text("50%", x: l.barX + 14, y: l.matrixY + side / 2 - 4, .ink) }
    }
}
