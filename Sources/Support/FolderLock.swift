#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// dinoprobe's one claim mechanism: an `flock` on a hidden lock file, held while a process makes
/// something others must not make or read at the same time: an output folder (`.dinoprobe.lock`
/// in it), an output file or a cache entry (`.NAME.lock` beside it, see `claim(_:)`). The system
/// releases the lock when the process ends, however it ends, so a killed holder never leaves
/// anything claimed: what it left half-made is found unclaimed and made again.
///
/// A lock file may be removed by its last holder (`release(removingFile:)`): a process that was
/// waiting on the removed file notices (the name no longer leads to the file it locked) and
/// locks the new one, so two processes never both hold one name. Lock files are opened with
/// `O_NOFOLLOW`: a symbolic link at a lock file's name is refused.
public final class FolderLock {
    public static let fileName = ".dinoprobe.lock"
    public let folder: String
    /// The lock file.
    public let path: String
    private var fd: Int32
    private let shared: Bool

    /// Creates the folder if needed and takes its lock; throws `FileSystemError.locked` (naming
    /// the holder's host and process) if another process holds it. `name` picks another lock
    /// file (one lock per part of a folder); `wait` blocks until the holder lets go instead,
    /// calling `onWait` with the holder first; `shared` takes a lock that other shared holders
    /// may hold at the same time (but not an exclusive one).
    public init(folder: String, name: String = FolderLock.fileName, wait: Bool = false, shared: Bool = false,
                onWait: (String) -> Void = { _ in }) throws {
        path = folder + "/" + name
        fd = try Self.acquire(path, folder: folder, wait: wait, shared: shared, onWait: onWait)
        self.folder = folder
        self.shared = shared
        if !shared {
            let stamp = "host \(TemporaryFiles.host), process \(getpid())\n"
            _ = ftruncate(fd, 0)
            _ = stamp.withCString { pwrite(fd, $0, strlen($0), 0) }
        }
    }

    /// Opens and locks the lock file at `path`; returns its descriptor.
    private static func acquire(_ path: String, folder: String, wait: Bool, shared: Bool, onWait: (String) -> Void) throws -> Int32 {
        var announced = false
        while true {
            try FileSystem.createDirectories(folder)
            let fd = try open(path)
            var taken = lock(fd, shared: shared, wait: false)
            if !taken {
                let code = errno
                guard code == EWOULDBLOCK else { close(fd); throw FileSystemError.io(path, "lock", code) }
                guard wait else {
                    let text = holder(fd)
                    close(fd)
                    throw FileSystemError.locked(folder: folder, holder: text)
                }
                if !announced { onWait(holder(fd)); announced = true }
                taken = lock(fd, shared: shared, wait: true)
                if !taken { let code = errno; close(fd); throw FileSystemError.io(path, "lock", code) }
            }
            if stillNamed(path, fd) { return fd }
            close(fd)  // its last holder removed it while we waited: lock the new one
        }
    }

    /// Claims `file` (the output or cache entry this process is about to make) through the lock
    /// file `.NAME.lock` beside it; throws `FileSystemError.claimed` naming the holder unless
    /// `wait`. An exclusive claim's lock file is removed if the run is interrupted; release it
    /// with `release(removingFile: true)`.
    public static func claim(_ file: String, wait: Bool = false, shared: Bool = false, onWait: (String) -> Void = { _ in }) throws -> FolderLock {
        let folder = ByteText.parent(of: file), name = ByteText.name(of: file)
        do {
            let lock = try FolderLock(folder: folder.isEmpty ? "." : folder, name: "." + name + ".lock", wait: wait, shared: shared, onWait: onWait)
            if !shared { TemporaryFiles.register(lock.path) }
            return lock
        } catch let FileSystemError.locked(_, holder) { throw FileSystemError.claimed(path: file, holder: holder) }
    }

    /// Releases the lock (also done when the object goes away). With `removingFile`, the lock
    /// file is removed too, unless another process holds or waits for it.
    public func release(removingFile: Bool = false) {
        guard fd >= 0 else { return }
        if removingFile && (!shared || Self.lock(fd, shared: false, wait: false)) && Self.stillNamed(path, fd) {
            try? FileSystem.removeFile(path)
        } else if !shared {
            _ = ftruncate(fd, 0)
        }
        TemporaryFiles.unregister(path)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// Releases the lock and removes the folder if the run left nothing else in it.
    public func releaseRemovingIfEmpty() {
        guard let names = try? FileSystem.list(folder), names == [ByteText.name(of: path)] else { return release() }
        release(removingFile: true)
        FileSystem.removeEmptyDirectory(folder)
    }

    deinit { release() }

    /// Opens (creating) a lock file, never through a symbolic link.
    private static func open(_ path: String) throws -> Int32 {
        let opened = PathCodec.withCString(path) { Glibc.open($0, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        guard let fd = opened else { throw FileSystemError.invalidPath(path) }
        if fd < 0 && errno == ELOOP { throw FileSystemError.symbolicLink(path: path) }
        guard fd >= 0 else { throw FileSystemError.io(path, "create the lock file") }
        return fd
    }

    private static func lock(_ fd: Int32, shared: Bool, wait: Bool) -> Bool {
        let operation = (shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB)
        var result = flock(fd, operation)
        while result != 0 && errno == EINTR { result = flock(fd, operation) }
        return result == 0
    }

    /// Whether `path` still names the file open as `fd` (its last holder may have removed it).
    private static func stillNamed(_ path: String, _ fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, let named = (try? FileSystem.status(path, followLinks: false)) ?? nil else { return false }
        return named.device == UInt64(st.st_dev) && named.inode == UInt64(st.st_ino)
    }

    /// The holder's stamp ("host H, process P"), or "unknown process".
    private static func holder(_ fd: Int32) -> String {
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = pread(fd, &bytes, bytes.count, 0)
        let text = n > 0 ? String(decoding: bytes.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return text.isEmpty ? "unknown process" : text
    }
}
