import Foundation

extension LossCurvePlot {
    func draw(on canvas: Canvas, _ l: LossCurveLayout) {
        let size = PlotStyle.textSize, plot = l.plot
        canvas.title(title)
        drawAxes(on: canvas, l)
        canvas.clip(plot)
        // Long series: the raw values faint, their moving average over it in full colour.
        for i in series.indices {
            let (colour, dash) = Self.style(i), raw = points(i)
            let window = raw.count / Self.pointsPerWindow
            let lines = window > 1 ? [(raw, colour.faded, 1.0), (smoothed(raw, window: window), colour, 2.0)] : [(raw, colour, 2.0)]
            for (values, lineColour, width) in lines {
                let points = values.map { $0.map { l.point(step: $0.step, value: $0.value) } }
                for run in LineDecimation.runs(points) { canvas.line(LineDecimation.decimate(run), lineColour, width: width, dash: dash) }
            }
        }
        canvas.unclip()
        canvas.frame(plot.insetBy(dx: -1, dy: -1), .grey)
        let sampleX = Double(l.legendX)
        for (i, label) in l.labels.enumerated() {
            let (colour, dash) = Self.style(i), y = l.legendY(i).rounded()
            canvas.line([CGPoint(x: sampleX + 1, y: y), CGPoint(x: sampleX + Double(LossCurveLayout.legendSample) - 1, y: y)],
                        colour, width: 2, dash: dash)
            canvas.text(label, at: CGPoint(x: sampleX + Double(LossCurveLayout.legendSample) + 6, y: y), size: size, .ink)
        }
    }

    /// A series is smoothed over windows of its length / this many points (not when shorter).
    static let pointsPerWindow = 50

    /// The trailing mean of the last `window` points (fewer at the start and after a gap; a gap
    /// stays a gap); on a log axis the mean of the logarithms.
    func smoothed(_ points: [(step: Int, value: Float)?], window: Int) -> [(step: Int, value: Float)?] {
        var out: [(step: Int, value: Float)?] = [], recent: [Double] = [], sum = 0.0
        for point in points {
            guard let point else { (recent, sum) = ([], 0); out.append(nil); continue }
            let v = logScale ? log(Double(point.value)) : Double(point.value)
            recent.append(v); sum += v
            if recent.count > window { sum -= recent.removeFirst() }
            let mean = sum / Double(recent.count)
            out.append((point.step, Float(logScale ? exp(mean) : mean)))
        }
        return out
    }

    /// Colour and dash pattern of series `i` (see the type's documentation).
    static func style(_ i: Int) -> (PlotColour, [Double]) {
        let colours = PlotColour.series
        return (colours[i % colours.count], i < colours.count ? [] : [6, 3])
    }

    /// Grid lines and tick labels at the ticks, and the axis titles.
    private func drawAxes(on canvas: Canvas, _ l: LossCurveLayout) {
        let plot = l.plot, size = PlotStyle.textSize
        for tick in l.x.ticks {
            let x = (plot.minX + l.x.fraction(tick) * plot.width).rounded(.down) + 0.5
            canvas.line([CGPoint(x: x, y: plot.minY), CGPoint(x: x, y: plot.maxY)], .gridLine, width: 1)
            canvas.text(AxisScale.label(tick), at: CGPoint(x: x, y: plot.maxY + 6), size: size, .ink, align: .centre, baseline: .top)
        }
        for tick in l.y.minorTicks {
            let y = (plot.maxY - l.y.fraction(tick) * plot.height).rounded(.down) + 0.5
            canvas.line([CGPoint(x: plot.minX, y: y), CGPoint(x: plot.maxX, y: y)], .minorGridLine, width: 1)
        }
        for tick in l.y.ticks {
            let y = (plot.maxY - l.y.fraction(tick) * plot.height).rounded(.down) + 0.5
            canvas.line([CGPoint(x: plot.minX, y: y), CGPoint(x: plot.maxX, y: y)], .gridLine, width: 1)
            canvas.text(AxisScale.label(tick), at: CGPoint(x: plot.minX - 6, y: y), size: size, .ink, align: .end)
        }
        let line = canvas.lineHeight(size: size)
        canvas.text(xLabel, at: CGPoint(x: plot.midX, y: plot.maxY + 12 + line), size: size, .grey, align: .centre, baseline: .top)
        canvas.text(yLabel + (logScale ? " (log scale)" : ""), at: CGPoint(x: Double(PlotStyle.margin) + line / 2, y: plot.midY),
                    size: size, .grey, align: .centre, angle: -Double.pi / 2)
    }
}
