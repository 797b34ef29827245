/// Errors of reading and writing images. Each names the file and the reason.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read (missing, not a regular file, an I/O error).
    case unreadable(path: String, reason: String)
    /// A zero-byte file.
    case empty(path: String)
    /// A file that is an image of a format dinoprobe does not decode, or not an image at all.
    case unsupportedFormat(path: String, reason: String)
    /// The header declares more pixels than allowed (a decompression-bomb guard).
    case tooLarge(path: String, width: Int, height: Int, limit: Int)
    /// Damaged or truncated image data.
    case corrupt(path: String, format: String, reason: String)
    /// A mask that is not a palette or 8-bit greyscale PNG.
    case badMask(path: String, reason: String)
    /// Arguments that do not describe an image (e.g. a buffer of the wrong size for encoding).
    case invalid(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read image \(path): \(reason)"
        case let .badMask(path, reason): return "cannot use mask \(path): \(reason)"
        case let .invalid(message): return message
        case .empty, .unsupportedFormat, .tooLarge, .corrupt: return "cannot use image \(path ?? ""): \(reason)"
        }
    }

    /// The file at fault, when there is one.
    public var path: String? {
        switch self {
        case let .unreadable(path, _), let .empty(path), let .unsupportedFormat(path, _), let .tooLarge(path, _, _, _),
             let .corrupt(path, _, _), let .badMask(path, _):
            return path
        case .invalid: return nil
        }
    }

    /// What was wrong, without the file's name.
    public var reason: String {
        switch self {
        case let .unreadable(_, reason), let .unsupportedFormat(_, reason), let .badMask(_, reason): return reason
        case .empty: return "the file is empty (0 bytes)"
        case let .tooLarge(_, width, height, limit):
            return "it declares \(width)x\(height) pixels, over the limit of \(limit) pixels (raise the pixel limit if the image is genuine)"
        case let .corrupt(_, format, reason): return "corrupt \(format) data: \(reason)"
        case let .invalid(message): return message
        }
    }
}
