#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The temporary files this process is writing, so that an interrupted run can remove them
/// (`removeAll`, called by the command line's signal handling), and so that the next run can
/// remove those a killed run left behind (`removeStale`).
///
/// Temporary names are `.NAME~dinoprobe-tmp~HOST~PID~RANDOM` beside their destination: hidden,
/// and tied to the host and process that wrote them, so a cleaner never touches a live run's
/// file, even on a folder shared by several machines.
public enum TemporaryFiles {
    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var paths: Set<String> = []
        var cleanedFolders: Set<String> = []
        /// Set once `removeAll` ran (the process is ending): later registrations are removed at once.
        var closed = false
    }

    private static let registry = Registry()
    static let marker = "~dinoprobe-tmp~"

    /// This machine's name, as used in temporary names.
    public static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let name = String(decoding: bytes, as: UTF8.self).filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
        return name.isEmpty ? "localhost" : name
    }()

    /// A fresh temporary path beside `destination`.
    public static func path(beside destination: String) -> String {
        let folder = ByteText.parent(of: destination)
        let name = ByteText.name(of: destination)
        let unique = "\(marker)\(host)~\(getpid())~\(UInt32.random(in: 0...UInt32.max))"
        let file = "." + name + unique
        return folder.isEmpty ? file : folder + "/" + file
    }

    /// Remembers a temporary file so that `removeAll` deletes it.
    public static func register(_ path: String) {
        registry.lock.lock(); defer { registry.lock.unlock() }
        if registry.closed {
            try? FileSystem.removeFile(path)
            return
        }
        registry.paths.insert(path)
    }

    /// Creates a temporary file with `create` (which returns a descriptor, or -1) and registers it
    /// in one step under the registry's lock, so an interruption can never fall between the two
    /// and leave an unregistered file behind. Returns -1 (nothing created) once `removeAll` ran.
    public static func createRegistered(_ path: String, _ create: () -> Int32) -> Int32 {
        registry.lock.lock(); defer { registry.lock.unlock() }
        guard !registry.closed else { return -1 }
        let fd = create()
        if fd >= 0 { registry.paths.insert(path) }
        return fd
    }

    /// Forgets a temporary file (it was renamed into place or removed).
    public static func unregister(_ path: String) {
        registry.lock.lock(); defer { registry.lock.unlock() }
        registry.paths.remove(path)
    }

    /// Deletes every registered temporary file; returns how many were removed.
    @discardableResult
    public static func removeAll() -> Int {
        registry.lock.lock(); defer { registry.lock.unlock() }
        var removed = 0
        for path in registry.paths where (try? FileSystem.removeFile(path)) != nil { removed += 1 }
        registry.paths.removeAll()
        registry.closed = true
        return removed
    }

    /// Deletes the temporary files of `file` and of the files named after it (`NAME.part-...`),
    /// whichever host or process wrote them, except this process's own: for a caller holding
    /// `file`'s claim (see `FolderLock.claim`), without which no live process writes them, so
    /// they are what killed writers left. Returns the names removed.
    @discardableResult
    public static func removeUnclaimed(of file: String) -> [String] {
        let folder = ByteText.parent(of: file)
        let prefix = "." + ByteText.stem(of: ByteText.name(of: file)) + "."
        guard let names = try? FileSystem.list(folder.isEmpty ? "." : folder) else { return [] }
        registry.lock.lock()
        let own = registry.paths
        registry.lock.unlock()
        var removed: [String] = []
        // Bytes: `hasPrefix` would also match the temporary files of `\u{e9}.x` for `e\u{301}.x`, another file.
        for name in names where ByteText.hasPrefix(name, prefix) && name.contains(marker) {
            let path = folder.isEmpty ? name : folder + "/" + name
            if !own.contains(path) && (try? FileSystem.removeFile(path)) != nil { removed.append(name) }
        }
        return removed
    }

    /// Deletes temporary files in `folder` left by processes of this host that no longer run
    /// (each folder is looked at once per process). Returns the names removed.
    @discardableResult
    public static func removeStale(in folder: String) -> [String] {
        registry.lock.lock()
        let first = registry.cleanedFolders.insert(folder).inserted
        registry.lock.unlock()
        guard first, let names = try? FileSystem.list(folder.isEmpty ? "." : folder) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(".") && name.contains(marker) {
            let fields = name.split(separator: "~", omittingEmptySubsequences: false)
            guard fields.count >= 5, fields[fields.count - 4] == "dinoprobe-tmp", String(fields[fields.count - 3]) == host,
                  let pid = Int32(fields[fields.count - 2]), pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                let path = folder.isEmpty ? name : folder + "/" + name
                if (try? FileSystem.removeFile(path)) != nil { removed.append(name) }
            }
        }
        return removed
    }
}
