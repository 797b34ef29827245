/// Errors met while reading a PyTorch checkpoint (`torch.save`'s zip format); each names the file
/// and says what was wrong. Nothing from the file is echoed beyond a short, clipped name.
public enum TorchFileError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case unreadable(path: String, reason: String)
    /// The zip container is damaged, truncated or holds something PyTorch never writes.
    case badArchive(path: String, reason: String)
    /// The pickled object graph (`data.pkl`) is malformed or asks for something not allowed.
    case badPickle(path: String, reason: String)
    /// A tensor record is inconsistent with its storage.
    case badTensor(path: String, name: String, reason: String)
    /// No tensor of this name.
    case missingTensor(path: String, name: String)
    /// A stored value that is NaN or infinite.
    case nonFinite(path: String, name: String, index: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .badArchive(path, reason):
            return "\(path) is not a PyTorch checkpoint dinoprobe can read (torch.save's zip format): \(reason)"
        case let .badPickle(path, reason): return "\(path): refused its pickled content: \(reason)"
        case let .badTensor(path, name, reason): return "tensor '\(name)' in \(path): \(reason)"
        case let .missingTensor(path, name): return "\(path) has no tensor named '\(name)'"
        case let .nonFinite(path, name, index):
            return "tensor '\(name)' in \(path) holds NaN or infinite values (the first at element \(index)): the checkpoint is corrupt"
        }
    }

    /// `text` cut to `limit` characters with non-printing characters replaced, for messages.
    static func clip(_ text: String, _ limit: Int = 80) -> String {
        let cleaned = String(text.unicodeScalars.prefix(limit).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        return text.unicodeScalars.count > limit ? cleaned + "…" : cleaned
    }
}
