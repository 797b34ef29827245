#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive lock on an output folder, held while a run writes into it, so that two runs
/// cannot both fill the same folder. The lock is a `flock` on a hidden file in the folder; the
/// system releases it when the process ends, however it ends, so a killed run never leaves the
/// folder locked.
public final class FolderLock {
    public static let fileName = ".dinoprobe.lock"
    public let folder: String
    private var fd: Int32

    /// Creates the folder if needed and takes its lock; throws `FileSystemError.locked` (naming
    /// the holder's host and process) if another process holds it. `name` picks another lock
    /// file (one lock per part of a folder); `wait` blocks until the holder lets go instead.
    public init(folder: String, name: String = FolderLock.fileName, wait: Bool = false) throws {
        try FileSystem.createDirectories(folder)
        let path = folder + "/" + name
        let opened = PathCodec.withCString(path) { open($0, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        guard let fd = opened else { throw FileSystemError.invalidPath(path) }
        guard fd >= 0 else { throw FileSystemError.io(path, "create the lock file") }
        var taken = flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB)
        while taken != 0 && wait && errno == EINTR { taken = flock(fd, LOCK_EX) }
        if taken != 0 {
            let code = errno
            var holder = [UInt8](repeating: 0, count: 256)
            let n = pread(fd, &holder, holder.count, 0)
            close(fd)
            guard code == EWOULDBLOCK else { throw FileSystemError.io(path, "lock", code) }
            let text = n > 0 ? String(decoding: holder.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            throw FileSystemError.locked(folder: folder, holder: text.isEmpty ? "unknown process" : text)
        }
        let stamp = "host \(TemporaryFiles.host), process \(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = stamp.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.folder = folder
        self.fd = fd
    }

    /// Releases the lock (also done when the object goes away).
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// Releases the lock and removes the folder if the run left nothing else in it.
    public func releaseRemovingIfEmpty() {
        release()
        guard let names = try? FileSystem.list(folder), names == [Self.fileName] else { return }
        try? FileSystem.removeFile(folder + "/" + Self.fileName)
        FileSystem.removeEmptyDirectory(folder)
    }

    deinit { release() }
}
