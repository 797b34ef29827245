/// Errors raised by the heads. Each message says what was wrong and what to do about it.
public enum HeadError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An argument has the wrong size or value (`what` names it, `detail` says what was expected).
    case invalidArgument(what: String, detail: String)
    /// A label is neither a valid class index nor the ignore index.
    case labelOutOfRange(label: Int, classes: Int, position: Int)
    /// The file cannot be read or is not a valid safetensors file.
    case unreadable(path: String, reason: String)
    /// The file is not a dinoprobe head (no `format=dinoprobe-head` metadata, or unreadable).
    case notAHead(path: String, reason: String)
    /// The file is a head of another kind (e.g. a segmenter loaded as a classifier).
    case wrongKind(path: String, expected: HeadKind, found: String)
    /// A tensor the head needs is absent from the file.
    case missingTensor(path: String, name: String)
    /// The file has tensors that this head does not know.
    case unexpectedTensors(path: String, names: [String])
    /// A tensor has the wrong shape.
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    /// A metadata entry cannot be parsed or contradicts the tensors.
    case badMetadata(path: String, key: String, reason: String)
    /// A parameter holds NaN or infinity (`name` says which; `path` is empty for a head in memory).
    case nonFinite(path: String, name: String)
    /// Training stopped because the loss became NaN or infinite; nothing was saved.
    case diverged(String)
    /// A features file (from `dinoprobe extract`) that cannot be used.
    case badFeaturesFile(path: String, reason: String)
    /// A training state that cannot be resumed from (path empty when not yet known).
    case badTrainingState(path: String, reason: String)
    /// The head was trained on other features than the ones it is given.
    case incompatibleFeatures(headRecipe: String, headFingerprint: String, givenRecipe: String, givenFingerprint: String)

    public var description: String {
        switch self {
        case let .invalidArgument(what, detail):
            return "invalid \(what): \(detail)"
        case let .labelOutOfRange(label, classes, position):
            return "label \(label) at position \(position) is not a class index in 0..<\(classes) (nor the ignore index): check the label mapping or the head's class count"
        case let .unreadable(path, reason):
            return "cannot load a head from \(path): \(reason)"
        case let .notAHead(path, reason):
            return "\(path) is not a dinoprobe head: \(reason). Train one with dinoprobe, or save a PyTorch head with metadata format=dinoprobe-head (see scripts/make_head_fixtures.py)"
        case let .wrongKind(path, expected, found):
            return "\(path) holds a \(found) head, not a \(expected.rawValue) head"
        case let .missingTensor(path, name):
            return "\(path) has no tensor '\(name)': the file is truncated or was written by another program; save the head again"
        case let .unexpectedTensors(path, names):
            return "\(path) has tensors this head does not use: \(names.sorted().joined(separator: ", ")); is it a head of another kind?"
        case let .wrongShape(path, name, expected, found):
            return "tensor '\(name)' in \(path) has shape \(found), expected \(expected): the file is inconsistent; save the head again"
        case let .badMetadata(path, key, reason):
            return "metadata '\(key)' in \(path) is invalid: \(reason)"
        case let .nonFinite(path, name):
            return path.isEmpty ? "the head's '\(name)' holds NaN or infinite values (training diverged); it is not saved"
                : "tensor '\(name)' in \(path) holds NaN or infinite values: the head is corrupt or came from a diverged run"
        case let .diverged(message):
            return "training diverged: \(message); nothing was saved"
        case let .badFeaturesFile(path, reason):
            return "cannot use features file \(path): \(reason)"
        case let .badTrainingState(path, reason):
            return "cannot resume from the training state\(path.isEmpty ? "" : " " + path): \(reason)"
        case let .incompatibleFeatures(headRecipe, headFingerprint, givenRecipe, givenFingerprint):
            return "this head was trained on features '\(headRecipe)' of backbone fingerprint \(headFingerprint); the features given are '\(givenRecipe)' of backbone fingerprint \(givenFingerprint): re-extract the features with the head's recipe and backbone, or train a new head on these features"
        }
    }
}

/// Throws `HeadError.nonFinite` if any value is NaN or infinite.
func requireFinite(_ values: [Float], _ name: String, path: String = "") throws {
    if values.contains(where: { !$0.isFinite }) { throw HeadError.nonFinite(path: path, name: name) }
}

/// `a * b`, or `HeadError.invalidArgument` when it overflows.
func checkedProduct(_ a: Int, _ b: Int, _ what: String) throws -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    try require(!overflow && a >= 0 && b >= 0, what, "\(a) x \(b) is out of range")
    return product
}

/// Throws `HeadError.invalidArgument` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ what: @autoclosure () -> String, _ detail: @autoclosure () -> String) throws {
    if !condition { throw HeadError.invalidArgument(what: what(), detail: detail()) }
}
