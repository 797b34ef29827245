import Foundation

extension ConfusionPlot {
    func draw(on canvas: Canvas, _ l: ConfusionPlotLayout) {
        let m = Double(PlotStyle.margin), textSize = PlotStyle.textSize
        canvas.title(title)
        canvas.text(l.subtitle, at: CGPoint(x: m, y: Double(l.matrixY) - 12 - canvas.lineHeight(size: textSize)),
                    size: textSize, .grey, baseline: .top)
        drawCells(on: canvas, l)
        let side = Double(l.side), gap = Double(l.gap)
        canvas.frame(CGRect(x: Double(l.matrixX) - 1, y: Double(l.matrixY) - 1, width: side - gap + 2, height: side - gap + 2), .grey)

        // Class names: right-aligned before each row; under each column, reading bottom to top.
        for (i, name) in l.labels.enumerated() {
            let centre = Double(i * l.cell) + (Double(l.cell) - gap) / 2
            canvas.text(name, at: CGPoint(x: Double(l.matrixX) - 6, y: Double(l.matrixY) + centre), size: l.nameSize, .ink, align: .end)
            canvas.text(name, at: CGPoint(x: Double(l.matrixX) + centre, y: Double(l.matrixY) + side + 6), size: l.nameSize, .ink,
                        align: .end, angle: -Double.pi / 2)
        }

        // Axis titles.
        canvas.text("true class", at: CGPoint(x: m + Double(l.axisTitleBand) / 2, y: Double(l.matrixY) + side / 2), size: textSize,
                    .grey, align: .centre, angle: -Double.pi / 2)
        canvas.text("predicted class", at: CGPoint(x: Double(l.matrixX) + side / 2, y: Double(l.bottomTitleY) + 2), size: textSize,
                    .grey, align: .centre, baseline: .top)
        drawColourBar(on: canvas, l)
    }

    /// The cells, with the count centred in each non-zero cell where it fits.
    private func drawCells(on canvas: Canvas, _ l: ConfusionPlotLayout) {
        let countHeight = canvas.lineHeight(size: l.countSize)
        for t in 0..<l.k {
            let rowSum = confusion[t].reduce(0, +)
            for p in 0..<l.k {
                let count = confusion[t][p]
                let share = rowSum > 0 ? Double(count) / Double(rowSum) : 0
                let rect = l.cellRect(row: t, column: p)
                canvas.fill(rect, rowSum > 0 ? PlotColour.blues(share) : .noSamples)
                guard count > 0, l.countSize >= 6, countHeight <= rect.height - 2 else { continue }
                let digits = String(count)
                guard canvas.textWidth(digits, size: l.countSize) <= rect.width - 4 else { continue }
                canvas.text(digits, at: CGPoint(x: rect.midX, y: rect.midY), size: l.countSize, share > 0.5 ? .white : .ink,
                            align: .centre)
            }
        }
    }

    /// Share of the row from 0% (bottom) to 100% (top), one colour per pixel row.
    private func drawColourBar(on canvas: Canvas, _ l: ConfusionPlotLayout) {
        let bar = l.barRect
        let rows = Int(bar.height)
        for y in 0..<rows {
            canvas.fill(CGRect(x: bar.minX, y: bar.minY + Double(y), width: bar.width, height: 1),
                        PlotColour.blues(1 - Double(y) / Double(max(1, rows - 1))))
        }
        canvas.frame(bar.insetBy(dx: -1, dy: -1), .grey)
        let x = bar.maxX + 6, size = PlotStyle.textSize
        canvas.text("100%", at: CGPoint(x: x, y: bar.minY), size: size, .ink, baseline: .top)
        canvas.text("0%", at: CGPoint(x: x, y: bar.maxY - canvas.lineHeight(size: size)), size: size, .ink, baseline: .top)
        if rows >= 60 { canvas.text("50%", at: CGPoint(x: x, y: bar.midY), size: size, .ink) }
    }
}
