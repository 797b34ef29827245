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
/// never replaced.
///
/// Every file dinoprobe creates or replaces goes through here, and none is written through a
/// symbolic link: a link at the destination's own name is refused by name (checked when writing
/// begins and again right before the rename, which would replace the link itself, never its
/// target), and the temporary file is created with `O_CREAT | O_EXCL | O_NOFOLLOW`. Folders on the
/// way may be links (an output or cache folder linked elsewhere by its owner is fine): only the
/// final name is guarded.
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
            (self.destination, self.temporaryPath, self.fd) = (destination, temporaryPath, fd)
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
                try AtomicFile.checkDestination(destination)  // a link planted while the file was written
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

    /// Throws unless `path` can be created or replaced: nothing is there, or a regular file (not a
    /// symbolic link, which is never followed, nor a device, FIFO or folder).
    public static func checkDestination(_ path: String) throws {
        guard let st = try FileSystem.status(path, followLinks: false) else { return }
        switch st.kind {
        case .regular: return
        case .symlink: throw FileSystemError.symbolicLink(path: path)
        default: throw FileSystemError.wrongKind(path: path, kind: st.kind.rawValue, expected: "a regular file dinoprobe can replace")
        }
    }

    /// Checks, before any work is done, that `path` can be written: the destination is a regular
    /// file or absent, and its folder exists or can be created and accepts new files.
    public static func checkWritable(_ path: String) throws {
        try checkDestination(path)
        let folder = ByteText.parent(of: path)
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
            let parent = ByteText.parent(of: probe)
            if parent == probe || parent.isEmpty { return }
            probe = parent
        }
    }

    /// Starts writing `path`: creates its folder, removes temporary files that killed runs left
    /// there, and opens a fresh temporary file beside it.
    public static func begin(_ path: String) throws -> Output {
        try checkDestination(path)
        let destination = path
        let folder = ByteText.parent(of: destination)
        if !folder.isEmpty { try FileSystem.createDirectories(folder) }
        TemporaryFiles.removeStale(in: folder)
        let temp = TemporaryFiles.path(beside: destination)
        var encodable = true
        let fd = TemporaryFiles.createRegistered(temp) {
            let opened = PathCodec.withCString(temp) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644) }
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
