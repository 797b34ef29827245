#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Support

/// `blobs/<etag>.incomplete`: the bytes of a blob received so far, appended to across runs,
/// renamed onto the blob once verified.
final class PartialFile {
    let path: String
    private var fd: Int32

    /// Opens (creating) the file for appending; refuses a link or anything but a regular file.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw HubError.cache(path: path, reason: "cannot open (\(String(cString: strerror(errno))))") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw HubError.cache(path: path, reason: "not a regular file")
        }
        self.fd = fd
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Bytes in the file now.
    var size: Int64 {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
    }

    func append(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = write(fd, pointer, left)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw HubError.cache(path: path, reason: "cannot write (\(String(cString: strerror(errno)))); is the disk full?") }
                pointer += n
                left -= n
            }
        }
    }

    /// Empties the file (the server sent the whole file instead of the rest).
    func truncate() throws {
        guard ftruncate(fd, 0) == 0 else { throw HubError.cache(path: path, reason: "cannot truncate (\(String(cString: strerror(errno))))") }
    }

    /// Feeds the bytes already in the file to `body`, in 1 MiB chunks.
    func forEachChunk(_ body: (Data) -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HubError.cache(path: path, reason: "cannot read it back") }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { body(chunk) }
    }

    /// Flushes to disk, closes, and renames the file onto `destination` (the blob appears whole).
    func publish(as destination: String) throws {
        guard fsync(fd) == 0 else { throw HubError.cache(path: path, reason: "cannot flush (\(String(cString: strerror(errno))))") }
        close(fd)
        fd = -1
        do { try FileSystem.rename(path, to: destination) } catch { throw HubError.cache(path: destination, reason: "\(error)") }
    }

    /// Closes and deletes the file (its bytes are wrong).
    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        try? FileSystem.removeFile(path)
    }
}
