import Evaluation
import Foundation
import Support

/// One image's depth metrics, Meta's `calculate_depth_metrics` (dinov3/eval/depth/metrics.py)
/// on its valid pixels: each pixel's terms in float32 as torch computes them, the means over
/// pixels summed in double. With no valid pixel every metric is NaN except silog, which Meta's
/// code turns from NaN into 0 (so nan-averaging over images counts that image's 0).
public struct DepthScores: Sendable, Equatable, Codable {
    /// The metric names in Meta's order (`DEPTH_METRICS`).
    public static let names = ["a1", "a2", "a3", "abs_rel", "rmse", "log_10", "rmse_log", "silog", "sq_rel", "mae"]
    /// Whether a lower value is better, per name (Meta's `is_lower_better`).
    public static let lowerIsBetter = [false, false, false, true, true, true, true, true, true, true]

    /// The values in `names` order.
    public var values: [Double]
    /// Pixels scored.
    public var pixels: Int

    public init(values: [Double], pixels: Int) { (self.values, self.pixels) = (values, pixels) }

    /// The metrics of (ground truth, clamped prediction) pairs, all ground truths > 0.
    init(_ pairs: [(gt: Float, pred: Float)]) {
        var sums = [Double](repeating: 0, count: 10)  // a1 a2 a3 |e| |e|/g e^2 e^2/g l l^2 |log10|
        for (g, p) in pairs {
            let thresh = max(g / p, p / g), e = g - p
            let l = Foundation.log(g) - Foundation.log(p)
            let terms: [Float] = [thresh < 1.25 ? 1 : 0, thresh < 1.5625 ? 1 : 0, thresh < 1.953125 ? 1 : 0, abs(e), abs(e) / g,
                                  e * e, e * e / g, l, l * l, abs(Foundation.log10(g) - Foundation.log10(p))]
            for k in 0..<10 { sums[k] += Double(terms[k]) }
        }
        let m = sums.map { $0 / Double(pairs.count) }  // NaN for no pixel, as torch's mean of nothing
        // torch's float32 scalars: the variance term is formed in float32 (where it can cancel).
        let variance = Float(m[8]) - Float(m[7]) * Float(m[7])
        let silog = variance.squareRoot() * 100
        values = [m[0], m[1], m[2], m[4], m[5].squareRoot(), m[9], m[8].squareRoot(), silog.isNaN ? 0 : Double(silog), m[6], m[3]]
        pixels = pairs.count
    }

    /// The value of metric `name` (one of `names`).
    public subscript(name: String) -> Double? { Self.names.firstIndex(of: name).map { values[$0] } }
}

/// Meta's reduction over a data set: each metric nan-averaged over the images
/// (`all_metric_values.nanmean(1)`), with each image's own row kept for `per_image.csv`.
public struct DepthMetrics: DenseMetrics, Sendable {
    public private(set) var images: [(name: String, scores: DepthScores)] = []

    public init() {}

    /// Adds one image's scores under its name.
    public mutating func update(_ sample: (name: String, scores: DepthScores)) { images.append(sample) }

    public func finish() -> DepthResult {
        let means = (0..<DepthScores.names.count).map { k -> Double in
            let finite = images.map { $0.scores.values[k] }.filter { !$0.isNaN }
            return finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        }
        return DepthResult(metrics: Dictionary(uniqueKeysWithValues: zip(DepthScores.names, means)), images: images.count,
                           imagesWithoutValidPixels: images.filter { $0.scores.pixels == 0 }.count)
    }

    /// `per_image.csv`: image, pixels, then the ten metrics (empty cells for NaN).
    public func perImageCSV() -> String {
        var csv = CSVWriter(header: ["image", "pixels"] + DepthScores.names)
        for (name, s) in images {
            csv.row([.text(name), .int(s.pixels)] + s.values.map { $0.isFinite ? .number($0) : .empty })
        }
        return csv.text
    }

    /// Writes `metrics.json` and `per_image.csv` into `folder`; returns their names.
    public func writeScores(to folder: String) throws -> [String] {
        try finish().writeJSON(to: folder + "/metrics.json")
        try AtomicFile.write(Data(perImageCSV().utf8), to: folder + "/per_image.csv")
        return ["metrics.json", "per_image.csv"]
    }
}

/// The depth metrics of a data set (`metrics.json`): Meta's ten names, nan-averaged over images.
public struct DepthResult: MetricResult, Equatable {
    public var metrics: [String: Double]
    public var images: Int
    public var imagesWithoutValidPixels: Int

    enum CodingKeys: String, CodingKey {
        case metrics, images
        case imagesWithoutValidPixels = "images_without_valid_pixels"
    }

    public func table(maxNameWidth: Int = 10) -> String {
        var lines = ["metric      value  (\(images) images)"]
        for (name, lower) in zip(DepthScores.names, DepthScores.lowerIsBetter) {
            let value = metrics[name].map { $0.isFinite ? String(format: "%.4f", $0) : "-" } ?? "-"
            lines.append(name.padding(toLength: 9, withPad: " ", startingAt: 0) + value.leftPadded(10) + (lower ? "  lower is better" : "  higher is better"))
        }
        return lines.joined(separator: "\n")
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
