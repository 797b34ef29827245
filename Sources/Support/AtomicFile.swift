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
    /// A temporary file being written beside its destination. `commit` flushes it to disk and
    /// renames it over the destination; `discard` (or dropping it uncommitted) removes it. It is
    /// registered with `TemporaryFiles`, so an interrupted run removes it too.
    public final class Output {
        /// The destination (used in messages).
        public let destination: String
        /// Where the bytes are being written.
        public let temporaryPath: String
        private var fd: Int32
        /// Bytes written so far.
        public private(set) var bytesWritten: Int64 = 0

        fileprivate init(destination: String, temporaryPath: String, fd: Int32) {
            self.destination = destination
            self.temporaryPath = temporaryPath
            self.fd = fd
        }

        deinit { discard() }

        /// Appends bytes.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var pointer = bytes.baseAddress else { return }
            guard fd >= 0 else { throw FileSystemError.io(path: destination, operation: "write", reason: "the file is already closed") }
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

        /// Flushes the bytes to disk and closes the file, keeping it at `temporaryPath` (for a
        /// spool file whose content is copied elsewhere before `discard`).
        public func finishWriting() throws {
            guard fd >= 0 else { return }
            guard fsync(fd) == 0 else { throw FileSystemError.io(destination, "flush") }
            let result = close(fd)
            fd = -1
            guard result == 0 else { throw FileSystemError.io(destination, "close") }
        }

        /// Flushes and renames the file over its destination: it appears whole.
        public func commit() throws {
            do {
                try finishWriting()
                try FileSystem.rename(temporaryPath, to: destination)
                TemporaryFiles.unregister(temporaryPath)
            } catch {
                discard()
                throw error
            }
        }

        /// Closes and removes the temporary file (nothing happens to the destination).
        public func discard() {
            if fd >= 0 { close(fd); fd = -1 }
            try? FileSystem.removeFile(temporaryPath)
            TemporaryFiles.unregister(temporaryPath)
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

    /// Starts writing `path`: creates its folder, removes temporary files that killed runs left
    /// there, and opens a fresh temporary file beside it.
    public static func begin(_ path: String) throws -> Output {
        let destination = try checkedDestination(path)
        let folder = (destination as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileSystem.createDirectories(folder) }
        TemporaryFiles.removeStale(in: folder)
        let temp = TemporaryFiles.path(beside: destination)
        var encodable = true
        let fd = TemporaryFiles.createRegistered(temp) {
            let opened = PathCodec.withCString(temp) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
            encodable = opened != nil
            return opened ?? -1
        }
        guard encodable else { throw FileSystemError.invalidPath(temp) }
        guard fd >= 0 else { throw FileSystemError.io(destination, "create a temporary file for", errno) }
        return Output(destination: destination, temporaryPath: temp, fd: fd)
    }

    /// Creates the file at `path` by calling `body` with the temporary file being written.
    /// If `body` throws, the temporary file is removed and `path` is left as it was.
    public static func write(to path: String, _ body: (Output) throws -> Void) throws {
        let output = try begin(path)
        do {
            try body(output)
        } catch {
            output.discard()
            throw error
        }
        try output.commit()
    }

    /// Writes `data` to `path` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(data) }
    }
}
