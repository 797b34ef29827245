import Foundation

/// Errors of the metrics, k-NN and report code. Each message says which input is at fault and
/// what was expected.
public enum MetricsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Two inputs whose sizes do not agree (`what` says which and how).
    case shapeMismatch(String)
    /// Nothing to measure: no samples, no classes or no pixels where some are needed.
    case empty(String)
    /// A label or prediction outside `0..<classCount` (`what` is e.g. "label", "prediction").
    case outOfRange(what: String, index: Int, value: Int, classCount: Int)
    /// A NaN or infinite value where a finite one is needed.
    case nonFinite(what: String, index: Int)
    /// An argument that makes no sense (e.g. k <= 0, temperature <= 0).
    case badArgument(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(what): return "size mismatch: \(what)"
        case let .empty(what): return "nothing to measure: \(what)"
        case let .outOfRange(what, index, value, classCount):
            return "\(what) \(value) at index \(index) is outside 0..<\(classCount) (there are \(classCount) classes)"
        case let .nonFinite(what, index): return "\(what) at index \(index) is NaN or infinite"
        case let .badArgument(what): return what
        }
    }
}
