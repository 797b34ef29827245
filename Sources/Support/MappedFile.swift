#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A regular file mapped read-only into memory: pages are read on demand, so a large checkpoint
/// or features file costs address space, not memory. Bytes can also be held in memory (for tests
/// and fuzzing) behind the same interface.
public final class MappedFile: @unchecked Sendable {
    /// The path the bytes came from (used in messages).
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?
    private let unmap: Bool
    private let heldData: Data?

    /// Maps the regular file at `path`; refuses other kinds of file and files over `limit` bytes.
    public init(path: String, limit: Int64 = .max) throws {
        let (fd, status) = try FileSystem.openRegular(path)
        defer { close(fd) }
        guard status.size <= limit else { throw FileSystemError.tooLarge(path: path, size: status.size, limit: limit) }
        guard status.size <= Int64(Int.max) else { throw FileSystemError.tooLarge(path: path, size: status.size, limit: Int64(Int.max)) }
        self.path = path
        count = Int(status.size)
        heldData = nil
        if count == 0 {
            base = nil
            unmap = false
            return
        }
        let pointer = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != MAP_FAILED else { throw FileSystemError.io(path, "map") }
        base = UnsafeRawPointer(pointer)
        unmap = true
    }

    /// Bytes held in memory, named `path` in messages.
    public init(bytes: Data, path: String) {
        self.path = path
        count = bytes.count
        heldData = bytes
        base = nil
        unmap = false
    }

    deinit {
        if unmap, let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Calls `body` with all the bytes (valid only during the call).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let heldData { return try heldData.withUnsafeBytes(body) }
        return try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The bytes in `range` (which the caller has checked lies within `0..<count`).
    public func withBytes<R>(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withBytes { all in try body(UnsafeRawBufferPointer(rebasing: all[range])) }
    }
}
