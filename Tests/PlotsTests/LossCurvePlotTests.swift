import Evaluation
import Foundation
import Images
@testable import Plots
import XCTest

/// Loss curves: lines where the values put them, in the documented colours, stopping at NaN.
final class LossCurvePlotTests: XCTestCase {
    // The first two documented line colours: tab10 blue and orange.
    let blue: [UInt8] = [0x1F, 0x77, 0xB4]
    let orange: [UInt8] = [0xFF, 0x7F, 0x0E]
    let green: [UInt8] = [0x2C, 0xA0, 0x2C]

    /// Row of `value` on a log axis from 10^lower to 10^upper over `plot`, computed here.
    func logRow(_ value: Double, lower: Double, upper: Double, plot: CGRect) -> Double {
        plot.maxY - (log10(value) - lower) / (upper - lower) * plot.height
    }

    func testTwoFlatSeriesLieWhereTheirValuesAre() throws {
        let steps = Array(0...1000)
        let plot = try LossCurvePlot(series: [.init(label: "lr 0.1", steps: steps, values: steps.map { _ in 1 }),
                                              .init(label: "lr 0.01", steps: steps, values: steps.map { _ in 0.1 })],
                                     title: "heads")
        let layout = try LossCurveLayout(plot: plot)
        // 0.1...1 padded by 5% of one decade each side: ticks at the two powers of ten inside.
        XCTAssertEqual(layout.y.lower, -1.05, accuracy: 1e-6)
        XCTAssertEqual(layout.y.upper, 0.05, accuracy: 1e-6)
        XCTAssertEqual(layout.y.ticks, [0.1, 1])
        let image = try plot.render()
        XCTAssertEqual([image.width, image.height], [layout.width, layout.height])
        for (colour, value) in [(blue, 1.0), (orange, 0.1)] {
            let hits = PixelProbe.find(colour, in: image, rect: layout.plot)
            XCTAssertGreaterThan(hits.count, 600, "colour \(colour)")
            let row = logRow(value, lower: -1.05, upper: 0.05, plot: layout.plot)
            XCTAssertTrue(hits.allSatisfy { abs(Double($0.y) + 0.5 - row) <= 1.5 }, "colour \(colour) off row \(row)")
            // From the left edge of the plot to its right edge.
            XCTAssertLessThanOrEqual(Double(hits.map(\.x).min() ?? 9999), layout.plot.minX + 2)
            XCTAssertGreaterThanOrEqual(Double(hits.map(\.x).max() ?? 0), layout.plot.maxX - 3)
        }
        XCTAssertTrue(PixelProbe.bordersAreWhite(image, band: 4))
        XCTAssertEqual(try PixelProbe.decode(plot.pngData()), image)
    }

    func testADivergedSeriesStopsWhereItDiverged() throws {
        let steps = Array(0..<100)
        let diverging: [Float] = steps.map { $0 < 50 ? 2 : ($0 == 60 ? .infinity : .nan) }
        let plot = try LossCurvePlot(series: [.init(label: "diverged", steps: steps, values: diverging),
                                              .init(label: "fine", steps: steps, values: steps.map { _ in 0.5 }),
                                              .init(label: "all NaN", steps: [0, 1], values: [.nan, .nan])],
                                     title: "NaN")
        let layout = try LossCurveLayout(plot: plot)
        XCTAssertEqual([layout.x.lower, layout.x.upper], [0, 99])
        let image = try plot.render()
        let hits = PixelProbe.find(blue, in: image, rect: layout.plot)
        XCTAssertFalse(hits.isEmpty)
        let lastX = layout.plot.minX + 49.0 / 99.0 * layout.plot.width
        let right = Double(hits.map(\.x).max() ?? 0)
        XCTAssertLessThanOrEqual(right, lastX + 2, "the line goes on after the NaN")
        XCTAssertGreaterThanOrEqual(right, lastX - 3, "the line stops too early")
        XCTAssertGreaterThanOrEqual(Double(PixelProbe.find(orange, in: image, rect: layout.plot).map(\.x).max() ?? 0), layout.plot.maxX - 3)
    }

    func testLinearScaleManyPointsAndManySeries() throws {
        let steps = Array(0..<5000)
        let noisy = steps.map { Float(sin(Double($0) * 0.37)) * 2 - 1 }  // negative values are fine on a linear axis
        let many = (0..<15).map { i in LossCurvePlot.Series(label: "lr \(i)", steps: [0, 10], values: [Float(i), Float(i) + 1]) }
        let linear = try LossCurvePlot(series: [.init(label: "noisy", steps: steps, values: noisy)], title: "t", logScale: false)
        let layout = try LossCurveLayout(plot: linear)
        XCTAssertEqual(layout.y.ticks.first.map { $0 >= -3.15 && $0 <= -2 }, true)
        XCTAssertFalse(PixelProbe.find(blue, in: try linear.render(), rect: layout.plot).isEmpty)
        let grid = try LossCurvePlot(series: many, title: "15 heads")
        let gridImage = try grid.render()
        XCTAssertFalse(PixelProbe.find(green, in: gridImage, rect: try LossCurveLayout(plot: grid).plot).isEmpty)
        XCTAssertEqual(Set(PlotColour.series).count, 13)
    }

    func testDecimationKeepsTheExtremesOfEachColumn() {
        let run = [CGPoint(x: 0.1, y: 5), CGPoint(x: 0.2, y: 9), CGPoint(x: 0.3, y: 1), CGPoint(x: 0.4, y: 4),
                   CGPoint(x: 0.5, y: 3), CGPoint(x: 0.9, y: 6), CGPoint(x: 1.5, y: 2)]
        XCTAssertEqual(LineDecimation.decimate(run), [CGPoint(x: 0.1, y: 5), CGPoint(x: 0.2, y: 9), CGPoint(x: 0.3, y: 1),
                                                       CGPoint(x: 0.9, y: 6), CGPoint(x: 1.5, y: 2)])
        XCTAssertEqual(LineDecimation.runs([CGPoint(x: 0, y: 0), nil, nil, CGPoint(x: 1, y: 1), CGPoint(x: 2, y: 2), nil]).map(\.count), [1, 2])
    }

    func testBadInputIsRefused() {
        XCTAssertThrowsError(try LossCurvePlot(series: [], title: "none"))
        XCTAssertThrowsError(try LossCurvePlot(series: [.init(label: "a", steps: [1, 2, 3], values: [1, 2])], title: "mismatch")) {
            guard case MetricsError.shapeMismatch = $0 else { return XCTFail("\($0)") }
        }
    }
}
