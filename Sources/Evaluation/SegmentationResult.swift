import Foundation

/// Segmentation metrics as mmsegmentation reports them, but as fractions in 0...1 (mmseg prints
/// percentages). Per-class values are nil where mmseg has NaN, and means skip them (nanmean):
///
/// - `perClassIoU[c]` = I / (P + L - I), nil when the union is 0 (class neither labelled nor
///   predicted); a class predicted but never labelled has IoU 0 and counts in `mIoU`.
/// - `perClassAccuracy[c]` = I / L, nil when L = 0; `mAcc` is their mean.
/// - `perClassDice[c]` = 2I / (P + L), nil when P + L = 0; `mDice` is their mean. (mmseg's
///   F-score with beta 1 is the same number wherever P > 0 and L > 0.)
/// - `aAcc` = sum(I) / sum(L): pixel accuracy over labelled, in-range pixels.
///
/// Means are nil when no class qualifies (nothing added yet).
public struct SegmentationResult: Codable, Equatable, Sendable {
    public let classNames: [String]
    public let ignoreIndex: Int
    public let pixelCount: Int64
    public let ignoredCount: Int64
    public let aAcc: Double?
    public let mIoU: Double?
    public let mAcc: Double?
    public let mDice: Double?
    public let perClassIoU: [Double?]
    public let perClassAccuracy: [Double?]
    public let perClassDice: [Double?]
    public let areaIntersect: [Int64]
    public let areaUnion: [Int64]
    public let areaPrediction: [Int64]
    public let areaLabel: [Int64]

    init(_ m: SegmentationMetrics) {
        let k = m.numClasses
        let union = (0..<k).map { m.areaPrediction[$0] + m.areaLabel[$0] - m.areaIntersect[$0] }
        func ratio(_ a: Int64, _ b: Int64) -> Double? { b > 0 ? Double(a) / Double(b) : nil }
        func nanmean(_ xs: [Double?]) -> Double? {
            let v = xs.compactMap { $0 }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        classNames = m.classNames
        ignoreIndex = m.ignoreIndex
        pixelCount = m.pixelCount
        ignoredCount = m.ignoredCount
        perClassIoU = (0..<k).map { ratio(m.areaIntersect[$0], union[$0]) }
        perClassAccuracy = (0..<k).map { ratio(m.areaIntersect[$0], m.areaLabel[$0]) }
        perClassDice = (0..<k).map { ratio(2 * m.areaIntersect[$0], m.areaPrediction[$0] + m.areaLabel[$0]) }
        aAcc = ratio(m.areaIntersect.reduce(0, +), m.areaLabel.reduce(0, +))
        mIoU = nanmean(perClassIoU)
        mAcc = nanmean(perClassAccuracy)
        mDice = nanmean(perClassDice)
        areaIntersect = m.areaIntersect
        areaUnion = union
        areaPrediction = m.areaPrediction
        areaLabel = m.areaLabel
    }

    enum CodingKeys: String, CodingKey {
        case classNames = "class_names", ignoreIndex = "ignore_index", pixelCount = "pixel_count", ignoredCount = "ignored_count"
        case aAcc = "aacc", mIoU = "miou", mAcc = "macc", mDice = "mdice", perClassIoU = "per_class_iou", perClassAccuracy = "per_class_accuracy"
        case perClassDice = "per_class_dice", areaIntersect = "area_intersect", areaUnion = "area_union", areaPrediction = "area_prediction"
        case areaLabel = "area_label"
    }

    /// Encodes every key, writing `null` for missing means rather than leaving the key out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(classNames, forKey: .classNames)
        try c.encode(ignoreIndex, forKey: .ignoreIndex)
        try c.encode(pixelCount, forKey: .pixelCount)
        try c.encode(ignoredCount, forKey: .ignoredCount)
        try c.encode(aAcc, forKey: .aAcc)
        try c.encode(mIoU, forKey: .mIoU)
        try c.encode(mAcc, forKey: .mAcc)
        try c.encode(mDice, forKey: .mDice)
        try c.encode(perClassIoU, forKey: .perClassIoU)
        try c.encode(perClassAccuracy, forKey: .perClassAccuracy)
        try c.encode(perClassDice, forKey: .perClassDice)
        try c.encode(areaIntersect, forKey: .areaIntersect)
        try c.encode(areaUnion, forKey: .areaUnion)
        try c.encode(areaPrediction, forKey: .areaPrediction)
        try c.encode(areaLabel, forKey: .areaLabel)
    }

    /// A terminal table: per class IoU, accuracy, Dice and labelled pixels ("-" where
    /// undefined), then aAcc, mIoU, mAcc and mDice.
    public func table(maxNameWidth: Int = 28) -> String {
        let w = MetricsReport.nameWidth(classNames, minimum: 5, maximum: max(5, maxNameWidth))
        var lines = [MetricsReport.fit("class", w) + ["IoU", "accuracy", "Dice"].map { MetricsReport.fit($0, 11, right: true) }.joined()
            + MetricsReport.fit("pixels", 14, right: true)]
        lines.append(String(repeating: "-", count: w + 47))
        for c in classNames.indices {
            lines.append(MetricsReport.fit(classNames[c], w)
                + [perClassIoU[c], perClassAccuracy[c], perClassDice[c]].map { MetricsReport.fit(MetricsReport.percent($0), 11, right: true) }.joined()
                + MetricsReport.fit(String(areaLabel[c]), 14, right: true))
        }
        lines.append(String(repeating: "-", count: w + 47))
        lines.append("aAcc   \(MetricsReport.percent(aAcc))")
        lines.append("mIoU   \(MetricsReport.percent(mIoU))")
        lines.append("mAcc   \(MetricsReport.percent(mAcc))")
        lines.append("mDice  \(MetricsReport.percent(mDice))")
        lines.append("pixels \(pixelCount) (\(ignoredCount) ignored, label \(ignoreIndex))")
        return lines.joined(separator: "\n") + "\n"
    }
}
