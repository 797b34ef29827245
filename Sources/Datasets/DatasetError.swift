import Foundation
import Support

/// Errors of the data sets: finding, downloading, listing and checking them. Each message names
/// the file or folder at fault and says what to do.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A folder the layout needs is missing (`what` says which, e.g. "train split folder").
    case missingFolder(path: String, what: String, hint: String)
    /// The data set has no folder (or list) for this split at all.
    case missingSplit(split: DatasetSplit, path: String, hint: String)
    /// Class folders that do not make a classification data set (an empty one, a val class
    /// train lacks, fewer than two); the message names the folder.
    case badClasses(String)
    /// A split without any image (`folder` names where they were looked for).
    case emptySplit(folder: String, hint: String)
    /// A file that exists but cannot be read, or is malformed.
    case badFile(path: String, reason: String)
    /// A data set that is not in any of the searched places.
    case notFound(name: String, searched: [String], hint: String)
    /// A download that failed before all bytes arrived.
    case downloadFailed(url: String, reason: String)
    /// Downloaded bytes whose md5 is not the published one.
    case checksumMismatch(url: String, expected: String, got: String)
    /// `tar` could not unpack the archive, or it did not hold the expected folders.
    case extractionFailed(archive: String, reason: String)
    /// The destination holds a folder dinoprobe did not finish (no ready marker).
    case notReady(folder: String, marker: String)
    /// An image whose mask file does not exist.
    case missingMask(image: String, expectedMask: String)
    /// An image that does not exist (`listedIn`: the split list that names it, if any).
    case missingImage(path: String, listedIn: String?)
    /// A mask whose size differs from its image's.
    case sizeMismatch(image: String, mask: String, imageSize: [Int], maskSize: [Int])
    /// A mask value that is neither a class index nor the ignore index.
    case labelOutOfRange(mask: String, label: Int, classCount: Int, ignoreIndex: Int)
    /// A parameter outside what the function accepts (the message says which and why).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case let .missingFolder(path, what, hint):
            return "missing \(what): \(path)\(hint.isEmpty ? "" : "; \(hint)")"
        case let .missingSplit(split, path, hint):
            return "the data set has no \(split.rawValue) split: \(path) does not exist\(hint.isEmpty ? "" : "; \(hint)")"
        case let .badClasses(message), let .invalidParameter(message): return message
        case let .emptySplit(folder, hint):
            return "no images found in \(folder)\(hint.isEmpty ? "" : "; \(hint)")"
        case let .badFile(path, reason):
            return "cannot use \(path): \(reason)"
        case let .notFound(name, searched, hint):
            return """
            data set \(shown(name)) not found. dinoprobe looked in:
            \(searched.map { "  - \(shown($0))" }.joined(separator: "\n"))
            \(hint)
            """
        case let .downloadFailed(url, reason):
            return "download of \(url) failed: \(reason); nothing was kept, run again (check the network, or the URL if you overrode it)"
        case let .checksumMismatch(url, expected, got):
            return "md5 mismatch: expected \(expected), got \(got); the download was corrupt or truncated, run again (\(url))"
        case let .extractionFailed(archive, reason):
            return "cannot extract \(archive): \(reason); nothing was kept, run again (and check free disk space)"
        case let .notReady(folder, marker):
            return "\(folder) exists but has no \(marker) marker, so it may be an unfinished copy; if it is complete, create the marker (`touch \(folder)/\(marker)`), otherwise remove the folder and run again"
        case let .missingMask(image, expectedMask):
            return "image \(image) has no mask: expected \(expectedMask)"
        case let .missingImage(path, listedIn):
            return "image \(path)\(listedIn.map { " (listed in \($0))" } ?? "") does not exist"
        case let .sizeMismatch(image, mask, imageSize, maskSize):
            return "mask \(mask) is \(maskSize.map(String.init).joined(separator: "x")) but its image \(image) is \(imageSize.map(String.init).joined(separator: "x")); a mask must have its image's width and height"
        case let .labelOutOfRange(mask, label, classCount, ignoreIndex):
            return "mask \(mask) holds label \(label), outside the \(classCount) classes (0...\(classCount - 1)) and not the ignore index \(ignoreIndex); fix the mask or the class list"
        }
    }
}

extension DatasetError: MultilineMessage {
    /// The list of places searched is one line each (its values are `shown`).
    public var keepsLineBreaks: Bool {
        if case .notFound = self { return true }
        return false
    }
}
