#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Support

/// A model's folder in the hub cache, laid out as `huggingface_hub` lays it out so both share
/// one copy: `models--ORG--NAME/blobs/<etag>`, `refs/<revision>` holding the commit, and
/// `snapshots/<commit>/<file>` as relative links to `../../blobs/<etag>`.
struct HubRepoFolder {
    let cacheRoot: String
    /// `models--ORG--NAME`.
    let folderName: String

    init(cacheRoot: String, org: String, name: String) {
        self.cacheRoot = cacheRoot
        folderName = "models--\(org)--\(name)"
    }

    var path: String { cacheRoot + "/" + folderName }
    var blobs: String { path + "/blobs" }

    /// Etags and commits are checked hex (`HubNames`) before they reach these.
    func blob(_ etag: String) -> String { blobs + "/" + etag }
    func partial(_ etag: String) -> String { blob(etag) + ".incomplete" }
    func snapshot(_ commit: String) -> String { path + "/snapshots/" + commit }

    /// Links `snapshots/<commit>/<file>` to the blob with a relative link, replacing what is
    /// there in one step (a link written beside it, then renamed over it).
    func link(file: String, commit: String, etag: String) throws {
        let link = snapshot(commit) + "/" + file
        let depth = file.split(separator: "/").count + 1
        let target = String(repeating: "../", count: depth) + "blobs/" + etag
        do {
            try FileSystem.createDirectories(ByteText.parent(of: link))
            if let existing = try? FileManager.default.destinationOfSymbolicLink(atPath: link), existing == target { return }
            let temp = TemporaryFiles.path(beside: link)
            guard symlink(target, temp) == 0 else { throw FileSystemError.io(path: temp, operation: "create the link", reason: String(cString: strerror(errno))) }
            do { try FileSystem.rename(temp, to: link) } catch {
                try? FileSystem.removeFile(temp)
                throw error
            }
        } catch { throw HubError.cache(path: link, reason: "\(error)") }
    }

    /// Writes `refs/<revision>` (checked by `HubNames.checkRevision`) holding `commit`.
    func writeRef(revision: String, commit: String) throws {
        let ref = path + "/refs/" + revision
        do { try AtomicFile.write(Data(commit.utf8), to: ref) } catch {
            throw HubError.cache(path: ref, reason: "\(error)")
        }
    }

    /// Bytes free for an unprivileged writer where the blobs go (nil when unknown).
    func freeBytes() -> Int64? {
        var info = statvfs()
        var probe = blobs
        while !FileSystem.exists(probe), probe != "/", !probe.isEmpty { probe = ByteText.parent(of: probe) }
        guard statvfs(probe, &info) == 0 else { return nil }
        return Int64(info.f_bavail) &* Int64(info.f_frsize)
    }

    /// Takes the lock `huggingface_hub` takes for a blob (`.locks/models--ORG--NAME/<etag>.lock`,
    /// an exclusive `flock`), so that neither tool writes a blob the other is writing. Waits for
    /// the holder, saying so through `waiting`.
    func lock(_ etag: String, waiting: () -> Void) throws -> BlobLock {
        let folder = cacheRoot + "/.locks/" + folderName
        let path = folder + "/" + etag + ".lock"
        do {
            try FileSystem.createDirectories(folder)
            return try BlobLock(path: path, waiting: waiting)
        } catch let error as HubError {
            throw error
        } catch { throw HubError.cache(path: path, reason: "\(error)") }
    }
}

/// An exclusive `flock` on a lock file, released when dropped.
final class BlobLock {
    private let fd: Int32

    init(path: String, waiting: () -> Void) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw HubError.cache(path: path, reason: "cannot open the lock file (\(String(cString: strerror(errno))))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            waiting()
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    close(fd)
                    throw HubError.cache(path: path, reason: "cannot lock (\(String(cString: strerror(errno))))")
                }
            }
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
