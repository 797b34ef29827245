import Foundation

/// Errors collected from concurrent work (e.g. `DispatchQueue.concurrentPerform`), reported in
/// the order of their indices so the outcome does not depend on scheduling.
public final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [(Int, Error)] = []

    public init() {}

    public func add(_ index: Int, _ error: Error) {
        lock.lock(); defer { lock.unlock() }
        failures.append((index, error))
    }

    /// The failure with the lowest index.
    public var first: (Int, Error)? {
        lock.lock(); defer { lock.unlock() }
        return failures.min { $0.0 < $1.0 }
    }
}

/// Read-only bytes shared with concurrent workers (`DispatchQueue.concurrentPerform`) for the
/// duration of a call that keeps them alive.
public struct SharedBytes: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}
