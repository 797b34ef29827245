import Foundation
import Support
import Images

/// One image and its label mask.
public struct SegmentationSample: Sendable, Hashable, Codable {
    /// Absolute path of the image (JPEG or PNG).
    public var image: String
    /// Absolute path of the mask PNG (grey value or palette index = class). It may not exist;
    /// `SegmentationDataset.check` and `validate` report that.
    public var mask: String

    public init(image: String, mask: String) {
        self.image = image
        self.mask = mask
    }
}

/// One split of a semantic segmentation data set: image-mask pairs sorted by image path, the
/// class names, a display palette, and how mask values map to labels.
public struct SegmentationDataset: Sendable, Equatable {
    /// The on-disk layouts understood (see `ADE20K`, `PascalVOC`, `SegmentationFolder`).
    public enum Layout: String, Sendable, CaseIterable { case ade20k, voc, folder }

    /// Mask value for "no label" (borders, unlabelled pixels): left out of loss and metrics.
    public static let defaultIgnoreIndex: UInt8 = 255

    public var root: String
    public var split: DatasetSplit
    public var layout: Layout
    public var samples: [SegmentationSample]
    /// Class names in label order (after reduce-zero-label, if set).
    public var classNames: [String]
    /// RGB triples, one per class in label order (3 * classCount bytes), for colouring masks.
    public var palette: [UInt8]
    public var ignoreIndex: UInt8
    /// When set, stored mask values are shifted down: 0 (unlabelled) becomes the ignore index and
    /// every other value v becomes v - 1 (mmsegmentation's `reduce_zero_label`, used by ADE20K).
    public var reduceZeroLabel: Bool

    public init(root: String, split: DatasetSplit, layout: Layout, samples: [SegmentationSample], classNames: [String],
                palette: [UInt8]? = nil, ignoreIndex: UInt8 = defaultIgnoreIndex, reduceZeroLabel: Bool = false) {
        (self.root, self.split, self.layout, self.samples, self.classNames) = (root, split, layout, samples, classNames)
        self.palette = palette ?? Palette.voc(count: classNames.count)
        self.ignoreIndex = ignoreIndex
        self.reduceZeroLabel = reduceZeroLabel
    }

    public var count: Int { samples.count }
    public var classCount: Int { classNames.count }

    /// Finds the layout of `root` and loads `split`: ADE20K (`ADEChallengeData2016/` or
    /// `images/training`), Pascal VOC (`JPEGImages/` + `SegmentationClass/`, or `VOCdevkit/VOC2012`),
    /// else the plain folder layout (`images/` + `masks/` + `classes.txt`).
    public static func load(root: String, split: DatasetSplit) throws -> SegmentationDataset {
        let root = FileSystem.absolute(root)
        if ADE20K.resolveRoot(root) != nil { return try ADE20K.load(root: root, split: split) }
        if PascalVOC.resolveRoot(root) != nil { return try PascalVOC.load(root: root, split: split) }
        return try SegmentationFolder.load(root: root, split: split)
    }

    /// The label mask of `sample`, with reduce-zero-label applied. Throws `DatasetError.missingMask`,
    /// `ImageError` for an unreadable or non-PNG mask, or `labelOutOfRange` for a value
    /// that is neither a class nor the ignore index.
    public func loadMask(for sample: SegmentationSample) throws -> LabelMask {
        guard FileManager.default.fileExists(atPath: sample.mask) else {
            throw DatasetError.missingMask(image: sample.image, expectedMask: sample.mask)
        }
        var mask = try MaskDecoder.decode(path: sample.mask)
        let table = LabelMapping.table(reduceZeroLabel: reduceZeroLabel, ignoreIndex: ignoreIndex)
        var seen = [Bool](repeating: false, count: 256)
        for i in mask.labels.indices {
            let mapped = table[Int(mask.labels[i])]
            mask.labels[i] = mapped
            seen[Int(mapped)] = true
        }
        if let bad = (0 ..< 256).first(where: { seen[$0] && $0 >= classCount && $0 != Int(ignoreIndex) }) {
            throw DatasetError.labelOutOfRange(mask: sample.mask, label: bad,
                                               classCount: classCount, ignoreIndex: Int(ignoreIndex))
        }
        return mask
    }

    /// Checks one pair: the image exists and is readable, the mask exists, decodes, holds only
    /// class indices or the ignore index, and has the image's size (after EXIF orientation).
    /// Reads the image's header only.
    public func check(_ sample: SegmentationSample) throws {
        guard FileSystem.exists(sample.image) else { throw DatasetError.missingImage(path: sample.image, listedIn: nil) }
        let size = try ImageDecoder.info(path: sample.image)
        let mask = try loadMask(for: sample)
        guard mask.width == size.width, mask.height == size.height else {
            throw DatasetError.sizeMismatch(image: sample.image, mask: sample.mask,
                                            imageSize: [size.width, size.height], maskSize: [mask.width, mask.height])
        }
    }

    /// Checks every pair (see `check`); returns the data set of the good ones and the bad ones
    /// with their reasons, so a run can skip and report them instead of failing. `progress` is
    /// called with (checked, total) after each pair.
    public func validate(progress: ((Int, Int) -> Void)? = nil) -> (valid: SegmentationDataset, skipped: [SkippedInput]) {
        var good: [SegmentationSample] = []
        var skipped: [SkippedInput] = []
        for (i, sample) in samples.enumerated() {
            do {
                try check(sample)
                good.append(sample)
            } catch {
                skipped.append(SkippedInput(index: i, path: Self.culprit(of: error, sample), reason: Self.reason(error)))
            }
            progress?(i + 1, samples.count)
        }
        var valid = self
        valid.samples = good
        return (valid, skipped)
    }

    /// A 16-hex-digit FNV-1a fingerprint of the listing (split, classes, label mapping, and each
    /// image and mask's relative path, size and modification time), for cache keys.
    public func listingFingerprint() -> String {
        var h = FNV1a()
        h.combine("dinoprobe-seg-listing-v1")
        h.combine("\(layout.rawValue) \(split.rawValue) \(ignoreIndex) \(reduceZeroLabel)")
        for name in classNames { h.combine(name) }
        h.combineFiles(samples.flatMap { [$0.image, $0.mask] }, root: root)
        return h.hexDigest
    }

    static func culprit(of error: Error, _ sample: SegmentationSample) -> String {
        switch error {
        case DatasetError.missingImage, DatasetError.sizeMismatch: return sample.image
        case DatasetError.missingMask, DatasetError.labelOutOfRange: return sample.mask
        case let error as ImageError: return error.path ?? sample.image
        case let DatasetError.badFile(path, _): return path
        default: return sample.image
        }
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case let DatasetError.missingMask(_, mask): return "no mask (expected \(mask))"
        case DatasetError.missingImage: return "the image does not exist"
        case let DatasetError.sizeMismatch(_, _, imageSize, maskSize):
            return "mask is \(maskSize[0])x\(maskSize[1]) but the image is \(imageSize[0])x\(imageSize[1])"
        case let DatasetError.labelOutOfRange(_, label, classCount, ignoreIndex):
            return "mask holds label \(label), outside the \(classCount) classes and not the ignore index \(ignoreIndex)"
        case let error as ImageError: return error.reason
        case let DatasetError.badFile(_, reason): return reason
        default: return "\(error)"
        }
    }
}

/// How stored mask values become labels.
public enum LabelMapping {
    /// The value -> label table: the identity, or with `reduceZeroLabel` (mmsegmentation's
    /// `reduce_zero_label`, used by ADE20K) 0 -> ignore and v -> v - 1, the ignore index kept.
    public static func table(reduceZeroLabel: Bool, ignoreIndex: UInt8) -> [UInt8] {
        (0..<256).map { v in
            guard reduceZeroLabel else { return UInt8(v) }
            return v == 0 || v == Int(ignoreIndex) ? ignoreIndex : UInt8(v - 1)
        }
    }

    /// `labels` mapped through `table`.
    public static func apply(_ table: [UInt8], to labels: [UInt8]) -> [UInt8] {
        labels.map { table[Int($0)] }
    }
}
