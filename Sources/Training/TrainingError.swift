/// Errors of the training side: options, data, caches, features files.
public enum TrainingError: Error, CustomStringConvertible {
    case badOption(String)
    case badFeaturesFile(path: String, reason: String)
    case incompatible(String)

    public var description: String {
        switch self {
        case let .badOption(message): return message
        case let .badFeaturesFile(path, reason): return "cannot use features file \(path): \(reason)"
        case let .incompatible(message): return message
        }
    }
}
