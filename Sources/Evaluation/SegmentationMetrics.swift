import Foundation
import Support

/// Accumulates semantic-segmentation statistics over a whole data set with mmsegmentation's
/// `intersect_and_union` semantics (docs/protocols.md, section 6):
///
/// - pixels whose label equals `ignoreIndex` are dropped;
/// - of the rest, `areaIntersect[c]` counts pixels where prediction == label == c,
///   `areaPrediction[c]` pixels predicted c, `areaLabel[c]` pixels labelled c;
/// - like `torch.histc(bins: K, min: 0, max: K-1)`, values outside `0..<K` are not counted in
///   any histogram, but such a pixel still counts in the other one: a pixel labelled out of
///   range (and not ignored) adds its prediction to `areaPrediction`, and an out-of-range
///   prediction still adds its label to `areaLabel`.
///
/// Counts are 64-bit and summed over all images (not averaged per image). Use one accumulator
/// per worker and `merge` them for parallel evaluation.
public struct SegmentationMetrics: Sendable, Equatable {
    public let numClasses: Int
    public let ignoreIndex: Int
    public let classNames: [String]
    public private(set) var areaIntersect: [Int64]
    public private(set) var areaPrediction: [Int64]
    public private(set) var areaLabel: [Int64]
    /// Pixels seen, ignored ones included.
    public private(set) var pixelCount: Int64 = 0
    /// Pixels dropped because their label is `ignoreIndex`.
    public private(set) var ignoredCount: Int64 = 0
    /// The pixel confusion matrix [numClasses, numClasses], row = label, column = prediction
    /// (pixels with both in range only).
    public private(set) var confusion: [Int64]

    /// An empty accumulator for `numClasses` classes (>= 1). `classNames`, when given, must have
    /// `numClasses` entries; otherwise the classes are named "class 0", "class 1", ...
    public init(numClasses: Int, ignoreIndex: Int = 255, classNames: [String]? = nil) throws {
        guard numClasses >= 1 else { throw MetricsError.badArgument("segmentation needs at least 1 class, got \(numClasses)") }
        if let classNames, classNames.count != numClasses {
            throw MetricsError.shapeMismatch("\(classNames.count) class names for \(numClasses) classes")
        }
        self.numClasses = numClasses
        self.ignoreIndex = ignoreIndex
        self.classNames = classNames ?? (0..<numClasses).map { "class \($0)" }
        areaIntersect = [Int64](repeating: 0, count: numClasses)
        areaPrediction = areaIntersect
        areaLabel = areaIntersect
        confusion = [Int64](repeating: 0, count: numClasses * numClasses)
    }

    /// Adds one image (or batch): predicted class per pixel and label per pixel, same length.
    public mutating func add(prediction: [UInt8], label: [UInt8]) throws {
        try prediction.withUnsafeBufferPointer { p in try label.withUnsafeBufferPointer { try add(prediction: p, label: $0) } }
    }

    /// Adds one image (or batch) of `Int32` predictions (e.g. an argmax output).
    public mutating func add(prediction: [Int32], label: [UInt8]) throws {
        try prediction.withUnsafeBufferPointer { p in try label.withUnsafeBufferPointer { try add(prediction: p, label: $0) } }
    }

    /// Adds `prediction.count` pixels from buffers (no copy).
    public mutating func add(prediction: UnsafeBufferPointer<UInt8>, label: UnsafeBufferPointer<UInt8>) throws {
        try accumulate(prediction, label)
    }

    /// Adds `prediction.count` pixels from buffers of `Int32` predictions (no copy).
    public mutating func add(prediction: UnsafeBufferPointer<Int32>, label: UnsafeBufferPointer<UInt8>) throws {
        try accumulate(prediction, label)
    }

    private mutating func accumulate<P: FixedWidthInteger>(_ pred: UnsafeBufferPointer<P>, _ label: UnsafeBufferPointer<UInt8>) throws {
        guard pred.count == label.count else {
            throw MetricsError.shapeMismatch("\(pred.count) predicted pixels for \(label.count) labelled pixels")
        }
        let k = numClasses, ignore = ignoreIndex
        var ignored: Int64 = 0
        areaIntersect.withUnsafeMutableBufferPointer { inter in
            areaPrediction.withUnsafeMutableBufferPointer { predArea in
                areaLabel.withUnsafeMutableBufferPointer { labelArea in
                    confusion.withUnsafeMutableBufferPointer { matrix in
                        for i in 0..<pred.count {
                            let l = Int(label[i])
                            if l == ignore { ignored += 1; continue }
                            let p = Int(pred[i])
                            let pIn = p >= 0 && p < k, lIn = l < k
                            if pIn { predArea[p] += 1 }
                            if lIn { labelArea[l] += 1 }
                            if pIn && p == l { inter[p] += 1 }
                            if pIn && lIn { matrix[l * k + p] += 1 }
                        }
                    }
                }
            }
        }
        pixelCount += Int64(pred.count)
        ignoredCount += ignored
    }

    /// Adds another accumulator's counts (same classes and ignore index).
    public mutating func merge(_ other: SegmentationMetrics) throws {
        guard other.numClasses == numClasses, other.ignoreIndex == ignoreIndex else {
            throw MetricsError.shapeMismatch("cannot merge segmentation metrics of \(other.numClasses) classes / ignore \(other.ignoreIndex) into \(numClasses) classes / ignore \(ignoreIndex)")
        }
        for c in 0..<numClasses {
            areaIntersect[c] += other.areaIntersect[c]
            areaPrediction[c] += other.areaPrediction[c]
            areaLabel[c] += other.areaLabel[c]
        }
        for i in confusion.indices { confusion[i] += other.confusion[i] }
        pixelCount += other.pixelCount
        ignoredCount += other.ignoredCount
    }

    /// Adds one image and returns its own scores (pixel accuracy and mean IoU of this image alone).
    public mutating func addImage(prediction: [UInt8], label: [UInt8], image: String, mask: String) throws -> SegmentationImageScore {
        var one = try SegmentationMetrics(numClasses: numClasses, ignoreIndex: ignoreIndex, classNames: classNames)
        try one.add(prediction: prediction, label: label)
        try merge(one)
        let r = one.result()
        return SegmentationImageScore(image: image, mask: mask, pixels: one.pixelCount, ignored: one.ignoredCount,
                                      accuracy: r.aAcc, meanIoU: r.mIoU, labelledClasses: one.areaLabel.filter { $0 > 0 }.count)
    }

    /// The pixel confusion matrix as CSV: a header (`label\predicted`, then the class names),
    /// then one row per labelled class.
    public func confusionCSV() -> String {
        var csv = CSVWriter(header: ["label\\predicted"] + classNames)
        for l in 0..<numClasses {
            let counts: [CSVCell] = confusion[(l * numClasses)..<((l + 1) * numClasses)].map { .integer(Int64($0)) }
            csv.row([.text(classNames[l])] + counts)
        }
        return csv.text
    }

    /// The metrics of everything added so far.
    public func result() -> SegmentationResult { SegmentationResult(self) }
}

/// One image's scores within a segmentation evaluation (`per_image.csv`).
public struct SegmentationImageScore: Sendable, Equatable, Codable {
    public var image: String
    public var mask: String
    public var pixels: Int64
    public var ignored: Int64
    /// Pixel accuracy over the labelled, in-range pixels (nil when there are none).
    public var accuracy: Double?
    /// Mean IoU over the classes labelled or predicted in this image.
    public var meanIoU: Double?
    /// Classes present in the label.
    public var labelledClasses: Int

    /// `per_image.csv`: image, mask, pixels, ignored, accuracy, mean_iou, labelled_classes
    /// (empty cells for undefined scores).
    public static func csv(_ scores: [SegmentationImageScore]) -> String {
        var csv = CSVWriter(header: ["image", "mask", "pixels", "ignored", "accuracy", "mean_iou", "labelled_classes"])
        for s in scores {
            csv.row([.text(s.image), .text(s.mask), .integer(s.pixels), .integer(s.ignored),
                     s.accuracy.map(CSVCell.number) ?? .empty, s.meanIoU.map(CSVCell.number) ?? .empty, .int(s.labelledClasses)])
        }
        return csv.text
    }
}
