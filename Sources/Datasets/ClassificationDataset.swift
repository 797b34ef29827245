import Foundation
import Support

/// Which part of a data set: the images a head is trained on, or the ones it is evaluated on.
public enum DatasetSplit: String, Sendable, CaseIterable, Codable {
    case train, val
}

/// One labelled image.
public struct ClassificationSample: Sendable, Hashable, Codable {
    /// Absolute path of the image file.
    public var path: String
    /// Index into the data set's classes.
    public var label: Int

    public init(path: String, label: Int) {
        self.path = path
        self.label = label
    }
}

/// A list of labelled images of one split, with its classes.
public struct ClassificationDataset: Sendable, Equatable {
    /// The data set's root folder (the one holding `train/` and `val/`).
    public var root: String
    public var split: DatasetSplit
    public var samples: [ClassificationSample]
    /// Class identifiers in label order (the folder names, e.g. WordNet ids).
    public var classIDs: [String]
    /// Human-readable class names in label order (the folder names unless a mapping says better).
    public var classNames: [String]
    /// Folders that could not be walked while listing (symbolic-link loops, unreadable folders).
    public var listingProblems: [SkippedInput] = []

    public init(root: String, split: DatasetSplit, samples: [ClassificationSample], classIDs: [String], classNames: [String]? = nil) {
        (self.root, self.split, self.samples, self.classIDs) = (root, split, samples, classIDs)
        self.classNames = classNames ?? classIDs
    }

    public var count: Int { samples.count }
    public var classCount: Int { classIDs.count }
    public var paths: [String] { samples.map(\.path) }
    public var labels: [Int] { samples.map(\.label) }

    /// `path` relative to `root` with "/" separators (the path itself if it is outside `root`).
    public func relativePath(_ path: String) -> String {
        ByteText.relative(path, to: root) ?? path
    }

    /// A 16-hex-digit FNV-1a fingerprint of the listing: split, classes, and every sample's path
    /// relative to the root, file size, modification time and label. Any added, removed, changed
    /// or relabelled file changes it, so it can key caches. Reads each file's attributes (no
    /// image data).
    public func listingFingerprint() -> String {
        var h = FNV1a()
        h.combine("dinoprobe-listing-v1")
        h.combine(split.rawValue)
        for id in classIDs { h.combine(id) }
        h.combineFiles(paths, root: root) { " \(samples[$0].label)" }
        return h.hexDigest
    }
}
