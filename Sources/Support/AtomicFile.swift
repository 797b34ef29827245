#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes files so that they appear whole or not at all: the content goes to a hidden temporary
/// file beside the destination, is flushed to disk, then renamed over the destination. On any
/// error (a full disk included) the temporary file is removed and the previous file, if any, is
/// left as it was. Destinations that are not regular files (devices, FIFOs, folders) are refused,
/// never replaced; a symbolic link is followed and its target replaced.
public enum AtomicFile {
    /// An open temporary file being written.
    public final class Output {
        /// The destination (used in messages).
        public let destination: String
        fileprivate let fd: Int32
        /// Bytes written so far.
        public private(set) var bytesWritten: Int64 = 0

        fileprivate init(destination: String, fd: Int32) {
            self.destination = destination
            self.fd = fd
        }

        /// Appends bytes.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var pointer = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let n = Glibc.write(fd, pointer, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError.io(destination, "write")
                }
                pointer += n
                left -= n
                bytesWritten += Int64(n)
            }
        }

        /// Appends bytes.
        public func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }

        /// Appends the raw bytes of an array of plain values.
        public func write<T>(contentsOf values: [T]) throws {
            try values.withUnsafeBytes { try write($0) }
        }
    }

    /// Where a write to `path` really goes: the path itself, or the target of a symbolic link.
    /// Throws if something other than a regular file is there.
    public static func checkedDestination(_ path: String) throws -> String {
        guard let st = try FileSystem.status(path, followLinks: false) else { return path }
        switch st.kind {
        case .regular:
            return path
        case .symlink:
            guard let target = try FileSystem.status(path) else { return path }  // a dangling link: replaced
            guard target.kind == .regular else {
                throw FileSystemError.wrongKind(path: path, kind: "a link to \(target.kind.rawValue)", expected: "a regular file dinoprobe can replace")
            }
            return try FileSystem.realPath(path)
        default:
            throw FileSystemError.wrongKind(path: path, kind: st.kind.rawValue, expected: "a regular file dinoprobe can replace")
        }
    }

    /// Checks, before any work is done, that `path` can be written: the destination is a regular
    /// file or absent, and its folder exists or can be created and accepts new files.
    public static func checkWritable(_ path: String) throws {
        let destination = try checkedDestination(path)
        let folder = (destination as NSString).deletingLastPathComponent
        try checkFolderWritable(folder.isEmpty ? "." : folder)
    }

    /// Checks that files can be created in `folder` (or in its nearest existing ancestor, if it
    /// does not exist yet). Creates nothing.
    public static func checkFolderWritable(_ folder: String) throws {
        var probe = FileSystem.absolute(folder)
        while true {
            if let st = try FileSystem.status(probe) {
                guard st.kind == .directory else {
                    throw FileSystemError.wrongKind(path: probe, kind: st.kind.rawValue, expected: "a folder")
                }
                let ok = PathCodec.withCString(probe) { access($0, W_OK | X_OK) } == 0
                if !ok { throw FileSystemError.io(probe, "write into", errno) }
                return
            }
            let parent = (probe as NSString).deletingLastPathComponent
            if parent == probe || parent.isEmpty { return }
            probe = parent
        }
    }

    /// Creates the file at `path` by calling `body` with the temporary file being written.
    /// If `body` throws, the temporary file is removed and `path` is left as it was.
    public static func write(to path: String, _ body: (Output) throws -> Void) throws {
        let destination = try checkedDestination(path)
        let folder = (destination as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileSystem.createDirectories(folder) }
        TemporaryFiles.removeStale(in: folder)
        let temp = TemporaryFiles.path(beside: destination)
        let opened = PathCodec.withCString(temp) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        guard let fd = opened else { throw FileSystemError.invalidPath(temp) }
        guard fd >= 0 else { throw FileSystemError.io(destination, "create a temporary file for", errno) }
        TemporaryFiles.register(temp)
        var closed = false
        defer {
            if !closed { close(fd) }
            TemporaryFiles.unregister(temp)
        }
        do {
            let output = Output(destination: destination, fd: fd)
            try body(output)
            guard fsync(fd) == 0 else { throw FileSystemError.io(destination, "flush") }
            closed = true
            guard close(fd) == 0 else { throw FileSystemError.io(destination, "close") }
            try FileSystem.rename(temp, to: destination)
        } catch {
            try? FileSystem.removeFile(temp)
            throw error
        }
    }

    /// Writes `data` to `path` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(data) }
    }
}
