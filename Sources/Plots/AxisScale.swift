import Foundation

/// One axis of a chart: its range (in log10 units on a log axis), its ticks and their labels.
struct AxisScale {
    let log: Bool
    /// Ends of the axis, in axis units (the value, or its log10).
    let lower: Double
    let upper: Double
    /// Tick positions, as values.
    let ticks: [Double]

    /// An axis spanning `values` (finite, and positive on a log axis), widened by `padding`
    /// of the span on each side; `integer` keeps linear ticks on whole numbers.
    init(values: [Double], log: Bool, padding: Double, integer: Bool = false) {
        self.log = log
        let units = values.map { log ? Foundation.log10($0) : $0 }
        var lo = units.min() ?? 0, hi = units.max() ?? 1
        if lo == hi {
            let d = log ? 0.5 : (lo == 0 ? 1 : abs(lo) * 0.1)
            (lo, hi) = (lo - d, hi + d)
        }
        let pad = (hi - lo) * padding
        (lower, upper) = (lo - pad, hi + pad)
        ticks = log ? Self.logTicks(lower, upper) : Self.linearTicks(lower, upper, integer: integer)
    }

    /// Unlabelled ticks between the labelled ones: on a log axis labelled at powers of ten,
    /// 2 to 9 times each power; none otherwise.
    var minorTicks: [Double] {
        guard log, ticks.count >= 2, ticks.allSatisfy({ log10($0).rounded() == log10($0) }) else { return [] }
        return (Int(lower.rounded(.down))...Int(upper.rounded(.up))).flatMap { d in (2...9).map { Double($0) * pow(10, Double(d)) } }
            .filter { log10($0) >= lower && log10($0) <= upper }
    }

    /// Position of `value` along the axis, 0 at `lower` and 1 at `upper`.
    func fraction(_ value: Double) -> Double {
        ((log ? Foundation.log10(value) : value) - lower) / (upper - lower)
    }

    /// A tick label: up to six significant digits, exponent form for very small or large values.
    static func label(_ value: Double) -> String {
        String(format: "%g", abs(value) < 1e-12 ? 0 : value)
    }

    /// Multiples of 1, 2 or 5 times a power of ten, about five over the range.
    private static func linearTicks(_ lo: Double, _ hi: Double, integer: Bool) -> [Double] {
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let n = raw / magnitude
        var step = (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * magnitude
        if integer { step = max(step, 1) }
        let first = (lo / step).rounded(.up), last = (hi / step).rounded(.down)
        guard first <= last, last - first < 100 else { return [] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// Powers of ten inside the range (every k-th when there are more than eight); with fewer
    /// than two, 1, 2 and 5 times them; with fewer than two of those, 1 to 9 times them.
    private static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let decades = Array(Int(lo.rounded(.up))...max(Int(lo.rounded(.up)), Int(hi.rounded(.down))))
            .filter { Double($0) >= lo && Double($0) <= hi }
        if decades.count >= 2 {
            let every = (decades.count + 7) / 8
            return decades.filter { $0 % every == 0 }.map { pow(10, Double($0)) }
        }
        for mantissas in [[1.0, 2, 5], Array(stride(from: 1.0, through: 9, by: 1))] {
            let ticks = (Int(lo.rounded(.down))...Int(hi.rounded(.up))).flatMap { d in mantissas.map { $0 * pow(10, Double(d)) } }
                .filter { log10($0) >= lo && log10($0) <= hi }
            if ticks.count >= 2 { return ticks }
        }
        return []
    }
}
