import Foundation

/// Where everything of a `ConfusionPlot` goes, in pixels.
struct ConfusionPlotLayout {
    static let barWidth = 14

    let k: Int
    /// Side of a cell including the white gap (1 pixel when cells are 8 pixels or more) on its
    /// right and bottom.
    let cell: Int
    let gap: Int
    let showNames: Bool
    let labels: [String]
    let nameSize: Double
    let countSize: Double
    /// Longest label (rows) and tallest column label.
    let labelExtent: Int
    let axisTitleBand: Int
    let matrixX: Int
    let matrixY: Int
    let barX: Int
    let width: Int
    let height: Int
    let subtitle: String

    init(plot: ConfusionPlot) throws {
        let font = try Canvas.measuring()
        let m = PlotStyle.margin
        k = plot.classNames.count
        showNames = k <= 120
        cell = showNames ? min(44, max(10, 760 / k)) : max(1, 1200 / k)
        gap = cell >= 8 ? 1 : 0
        labels = showNames ? plot.classNames.map { PlotLabel.shortened($0, maxLength: plot.maxNameLength, font: font) } : []
        let nameSize = min(PlotStyle.textSize, max(7, Double(cell) * 0.75))
        self.nameSize = nameSize
        countSize = min(11, Double(cell - gap) * 0.42)
        labelExtent = Int(labels.map { font.textWidth($0, size: nameSize) }.max() ?? 0) + 1
        let emptyRows = plot.confusion.contains { $0.allSatisfy { $0 == 0 } } ? ", grey: no samples" : ""
        subtitle = (showNames ? "rows: true class, columns: predicted, colour: share of the row"
            : "rows: true class, columns: predicted (\(k) classes, names left out)") + emptyRows
        let line = font.lineHeight(size: PlotStyle.textSize)
        axisTitleBand = Int(line.rounded(.up)) + 4
        let side = k * cell
        matrixX = m + axisTitleBand + labelExtent + (showNames ? 6 : 0)
        matrixY = m + Int((font.lineHeight(size: PlotStyle.titleSize) + 4 + line).rounded(.up)) + 12
        barX = matrixX + side + 16
        let barRight = barX + Self.barWidth + 6 + Int(font.textWidth("100%", size: PlotStyle.textSize).rounded(.up))
        let titleRight = m + Int(max(font.textWidth(plot.title, size: PlotStyle.titleSize, bold: true),
                                     font.textWidth(subtitle, size: PlotStyle.textSize)).rounded(.up))
        width = max(barRight, titleRight) + m
        height = Self.bottomTitleY(matrixY: matrixY, side: side, labelExtent: labelExtent, showNames: showNames) + axisTitleBand + m
    }

    var side: Int { k * cell }

    /// Top of the "predicted class" line under the column names.
    var bottomTitleY: Int { Self.bottomTitleY(matrixY: matrixY, side: side, labelExtent: labelExtent, showNames: showNames) }

    private static func bottomTitleY(matrixY: Int, side: Int, labelExtent: Int, showNames: Bool) -> Int {
        matrixY + side + 6 + labelExtent + (showNames ? 6 : 0)
    }

    /// The coloured square of row `t` (true class), column `p` (predicted class).
    func cellRect(row t: Int, column p: Int) -> CGRect {
        CGRect(x: matrixX + p * cell, y: matrixY + t * cell, width: cell - gap, height: cell - gap)
    }

    /// The colour bar, 100% at the top.
    var barRect: CGRect { CGRect(x: barX, y: matrixY, width: Self.barWidth, height: side) }
}
