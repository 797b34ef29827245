import Foundation

/// How a cache entry (a file that any process may make and every process reads, e.g. a feature
/// cache entry) is found or made when several processes want it at once. The entry is made
/// only under its claim (`FolderLock.claim`): a second process waits for the maker and then
/// reads what it made, and never sees a half-made entry or part. A maker killed half-way holds
/// no claim any more: the next process removes what it left half-written and makes the rest.
///
/// Processes that each make some parts of an entry (shards) hold its claim shared
/// (`claimParts`), so they run side by side while no process joins or removes parts.
public enum CacheEntry {
    /// The entry at `file`: what `read` returns when one is there; otherwise, under the entry's
    /// claim (waiting while another process holds it, after telling `waiting` who), what `read`
    /// returns for the entry the holder made, or what `make` makes. An entry `read` refuses is
    /// removed (`unusable` is told why) and made again; a symbolic link at `file` is refused.
    public static func obtain<T>(_ file: String, read: () throws -> T, make: () throws -> T,
                                 waiting: (String) -> Void, unusable: (Error) -> Void) throws -> T {
        if try FileSystem.status(file, followLinks: false)?.kind == .symlink { throw FileSystemError.symbolicLink(path: file) }
        if FileSystem.exists(file), let found = try? read() { return found }
        let claim = try FolderLock.claim(file, wait: true, onWait: waiting)
        defer { claim.release(removingFile: true) }
        if try FileSystem.status(file, followLinks: false) != nil {
            do { return try read() } catch {
                try FileSystem.removeFile(file)
                unusable(error)
            }
        }
        TemporaryFiles.removeUnclaimed(of: file)
        return try make()
    }

    /// A shared claim on the entry at `file`, for a process that writes some of its parts (held
    /// until released; waits while a process holding the entry's claim makes or joins it).
    public static func claimParts(of file: String, waiting: (String) -> Void) throws -> FolderLock {
        try FolderLock.claim(file, wait: true, shared: true, onWait: waiting)
    }
}
