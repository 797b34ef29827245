#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors of file-system access. Each names the path and says what was wrong.
public enum FileSystemError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Nothing exists at the path.
    case notFound(path: String)
    /// The path exists but is not what was needed (e.g. a FIFO or a device where a regular file
    /// was expected); `kind` says what it is.
    case wrongKind(path: String, kind: String, expected: String)
    /// A file larger than the caller allows reading.
    case tooLarge(path: String, size: Int64, limit: Int64)
    /// A system call failed; `operation` names it, `reason` is the system's message.
    case io(path: String, operation: String, reason: String)
    /// A path that resolves outside the folder it must stay in.
    case outsideFolder(path: String, folder: String, resolved: String)
    /// A path that cannot be a file name (it holds a NUL byte).
    case invalidPath(String)
    /// Another process holds the lock of a folder.
    case locked(folder: String, holder: String)
    /// Another process is making the file (it holds the file's claim, see `FolderLock.claim`).
    case claimed(path: String, holder: String)
    /// A symbolic link where dinoprobe creates or replaces a file: never written through.
    case symbolicLink(path: String)

    /// Paths are shown escaped (`shown`): a name cannot break the message's line.
    public var description: String {
        switch self {
        case let .notFound(path): return "\(shown(path)): no such file or folder"
        case let .wrongKind(path, kind, expected): return "\(shown(path)) is \(kind), not \(expected)"
        case let .tooLarge(path, size, limit): return "\(shown(path)) is \(size) bytes, more than the \(limit) bytes allowed for it"
        case let .io(path, operation, reason): return "cannot \(operation) \(shown(path)): \(reason)"
        case let .outsideFolder(path, folder, resolved):
            return "\(shown(path)) resolves to \(shown(resolved)), outside \(shown(folder)); dinoprobe only reads files inside the folder they belong to"
        case let .invalidPath(path): return "'\(shown(path))' is not a valid file name (it holds a NUL byte)"
        case let .locked(folder, holder): return "\(shown(folder)) is in use by another dinoprobe run (\(shown(holder))); wait for it to finish or choose another output folder"
        case let .claimed(path, holder):
            return "\(shown(path)) is being written by another dinoprobe run (\(shown(holder))); wait for it to finish, or choose another output name"
        case let .symbolicLink(path):
            return "\(shown(path)) is a symbolic link; dinoprobe never writes through a link (it would replace the file it points to): remove the link, or choose another output name"
        }
    }

    /// The system's message for the current `errno`.
    static func reason(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func io(_ path: String, _ operation: String, _ code: Int32 = errno) -> FileSystemError {
        code == ENOENT ? .notFound(path: path) : .io(path: path, operation: operation, reason: reason(code))
    }
}

/// An input a run could not use, and why: reported to the user, never dropped silently.
public struct SkippedInput: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// Its position in the run's input list (nil for what was never in the list, e.g. a folder
    /// that could not be walked).
    public var index: Int?
    public var path: String
    public var reason: String

    public init(index: Int? = nil, path: String, reason: String) {
        (self.index, self.path, self.reason) = (index, path, reason)
    }

    public var description: String { "\(shown(path)): \(reason)" }

    /// The same input numbered `offset` further on (a part's skipped input in the whole list).
    public func shifted(by offset: Int) -> SkippedInput {
        SkippedInput(index: index.map { $0 + offset }, path: path, reason: reason)
    }
}
