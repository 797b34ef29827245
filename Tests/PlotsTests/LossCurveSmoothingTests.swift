import Foundation
@testable import Plots
import XCTest

/// Long loss curves are drawn smoothed (a trailing mean) over their raw values drawn faint.
final class LossCurveSmoothingTests: XCTestCase {
    func testTheTrailingMeanRestartsAfterAGap() throws {
        let plot = try LossCurvePlot(series: [.init(label: "a", steps: [1], values: [1])], title: "t", logScale: false)
        let points: [(step: Int, value: Float)?] = [(1, 1), (2, 3), (3, 1), (4, 3), nil, (6, 5), (7, 7)]
        let smooth = plot.smoothed(points, window: 2).map { $0?.value }
        XCTAssertEqual(smooth, [1, 2, 2, 2, nil, 5, 6])
        let logPlot = try LossCurvePlot(series: [.init(label: "a", steps: [1], values: [1])], title: "t")
        XCTAssertEqual(logPlot.smoothed([(1, 1), (2, 100)], window: 2).last??.value ?? 0, 10, accuracy: 1e-4, "the geometric mean on a log axis")
    }

    func testALongNoisySeriesIsDrawnFaintAndSmoothed() throws {
        let steps = Array(1...1000)
        let values = steps.map { Float(2 + ($0 % 2 == 0 ? 1 : -1)) }  // 1, 3, 1, 3 ...
        let image = try LossCurvePlot(series: [.init(label: "loss", steps: steps, values: values)], title: "noisy", logScale: false).render()
        let colour = LossCurvePlot.style(0).0, faded = colour.faded
        var full = 0, faint = 0
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            let p = PlotColour(image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
            if p == colour { full += 1 } else if p == faded { faint += 1 }
        }
        XCTAssertGreaterThan(faint, 100, "the raw values, faint")
        XCTAssertGreaterThan(full, 100, "their mean, in full colour")
    }
}
