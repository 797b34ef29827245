#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What a path is, as `stat` reports it.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case regular = "a regular file", directory = "a folder", symlink = "a symbolic link"
        case fifo = "a FIFO (named pipe)", characterDevice = "a character device"
        case blockDevice = "a block device", socket = "a socket", other = "a special file"
    }

    public var kind: Kind
    public var size: Int64
    /// Modification time in nanoseconds since 1970.
    public var modificationTime: Int64
    public var device: UInt64
    public var inode: UInt64

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        size = Int64(st.st_size)
        modificationTime = Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}

/// File-system access through system calls on the exact bytes of each path (see `PathCodec`), so
/// names that are not UTF-8 work. Readers refuse anything that is not a regular file (a FIFO would
/// block, a device would stream forever) and anything over the size the caller allows.
public enum FileSystem {
    /// The status of `path` (following symbolic links unless `followLinks` is false); nil when
    /// nothing is there.
    public static func status(_ path: String, followLinks: Bool = true) throws -> FileStatus? {
        var st = stat()
        let result = PathCodec.withCString(path) { followLinks ? stat($0, &st) : lstat($0, &st) }
        guard let result else { throw FileSystemError.invalidPath(path) }
        if result != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileSystemError.io(path, "inspect")
        }
        return FileStatus(st)
    }

    public static func exists(_ path: String) -> Bool { ((try? status(path)) ?? nil) != nil }

    public static func isDirectory(_ path: String) -> Bool { ((try? status(path)) ?? nil)?.kind == .directory }

    public static func isRegularFile(_ path: String) -> Bool { ((try? status(path)) ?? nil)?.kind == .regular }

    /// Opens a regular file for reading; throws `wrongKind` for anything else (checked on the
    /// open descriptor, so a swapped-in FIFO is caught too). The caller closes the descriptor.
    static func openRegular(_ path: String) throws -> (fd: Int32, status: FileStatus) {
        let opened = PathCodec.withCString(path) { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        guard let fd = opened else { throw FileSystemError.invalidPath(path) }
        guard fd >= 0 else { throw FileSystemError.io(path, "open") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw FileSystemError.io(path, "inspect", code)
        }
        let status = FileStatus(st)
        guard status.kind == .regular else {
            close(fd)
            throw FileSystemError.wrongKind(path: path, kind: status.kind.rawValue, expected: "a regular file")
        }
        return (fd, status)
    }

    /// The whole content of a regular file of at most `limit` bytes.
    public static func read(_ path: String, limit: Int64) throws -> Data {
        let (fd, status) = try openRegular(path)
        defer { close(fd) }
        guard status.size <= limit else { throw FileSystemError.tooLarge(path: path, size: status.size, limit: limit) }
        var data = Data(count: Int(status.size))
        var filled = 0
        let total = data.count
        try data.withUnsafeMutableBytes { raw in
            while filled < total {
                let n = Glibc.read(fd, raw.baseAddress! + filled, total - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError.io(path, "read")
                }
                if n == 0 { break }  // the file shrank while we read it
                filled += n
            }
        }
        if filled < total { data.removeSubrange(filled..<total) }
        return data
    }

    /// The content of a regular text file of at most `limit` bytes, which must be UTF-8.
    public static func readText(_ path: String, limit: Int64) throws -> String {
        let data = try read(path, limit: limit)
        guard let text = String(validating: data, as: UTF8.self) else {
            throw FileSystemError.io(path: path, operation: "read", reason: "it is not UTF-8 text")
        }
        return text
    }

    /// Names in the folder (not "." and ".."), sorted by their bytes.
    public static func list(_ folder: String) throws -> [String] {
        let opened = PathCodec.withCString(folder) { opendir($0) }
        guard let handle = opened else { throw FileSystemError.invalidPath(folder) }
        guard let dir = handle else { throw FileSystemError.io(folder, "list") }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        errno = 0
        while let entry = readdir(dir) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
        }
        if errno != 0 { throw FileSystemError.io(folder, "list") }
        return names.sorted { $0.lexicographicallyPrecedes($1) }.map { PathCodec.string(fromBytes: $0) }
    }

    /// Creates the folder and its missing parents (mode 0755); fine if it exists.
    public static func createDirectories(_ path: String) throws {
        if let st = try status(path) {
            guard st.kind == .directory else { throw FileSystemError.wrongKind(path: path, kind: st.kind.rawValue, expected: "a folder") }
            return
        }
        let parent = ByteText.dropLastComponent(path)  // bytes: NSString misses "/" before a combining mark
        if !parent.isEmpty && parent != path { try createDirectories(parent) }
        let result = PathCodec.withCString(path) { mkdir($0, 0o755) }
        guard let result else { throw FileSystemError.invalidPath(path) }
        if result != 0 && errno != EEXIST { throw FileSystemError.io(path, "create the folder") }
    }

    /// Removes a file (not a folder); fine if it is gone.
    public static func removeFile(_ path: String) throws {
        let result = PathCodec.withCString(path) { unlink($0) }
        guard let result else { throw FileSystemError.invalidPath(path) }
        if result != 0 && errno != ENOENT { throw FileSystemError.io(path, "remove") }
    }

    /// Removes an empty folder; false when it is not empty or cannot be removed.
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) -> Bool {
        PathCodec.withCString(path) { rmdir($0) } == 0
    }

    /// Renames `from` over `to` (atomic within one file system).
    public static func rename(_ from: String, to: String) throws {
        let result = PathCodec.withCString(from) { a in PathCodec.withCString(to) { b in Glibc.rename(a, b) } }
        guard let inner = result, let code = inner else { throw FileSystemError.invalidPath(from + " -> " + to) }
        if code != 0 { throw FileSystemError.io(to, "rename \(from) to") }
    }

    /// The canonical absolute path (symbolic links, "." and ".." resolved).
    public static func realPath(_ path: String) throws -> String {
        let resolved: String?? = PathCodec.withCString(path) { p in
            guard let r = realpath(p, nil) else { return nil }
            defer { free(r) }
            return PathCodec.string(fromCString: r)
        }
        guard let inner = resolved else { throw FileSystemError.invalidPath(path) }
        guard let result = inner else { throw FileSystemError.io(path, "resolve") }
        return result
    }

    /// `path` resolved; throws `outsideFolder` unless it lies inside `folder` (both resolved).
    public static func confined(_ path: String, to folder: String) throws -> String {
        let root = try realPath(folder)
        let resolved = try realPath(path)
        // Bytes on a "/" boundary (`hasPrefix` equates `e\u{301}` with `\u{e9}`: another folder).
        guard ByteText.isInside(resolved, folder: root) else {
            throw FileSystemError.outsideFolder(path: path, folder: folder, resolved: resolved)
        }
        return resolved
    }

    /// `path`, a file below the folder the user typed as `typed`, spelled from `typed` (the
    /// convention of every path in dinoprobe's CSV files: as given on the command line, so that
    /// `--data shapes` lists `shapes/val/a/1.png`); a path elsewhere is returned as it is.
    public static func spelled(_ path: String, below typed: String) -> String {
        guard let rest = ByteText.dropping(prefix: absolute(typed) + "/", from: path) else { return path }
        return (ByteText.hasSuffix(typed, "/") ? typed : typed + "/") + rest
    }

    /// `path` made absolute against the current folder, "." and ".." removed lexically, "~" expanded.
    public static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let joined = ByteText.hasPrefix(expanded, "/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        var parts: [ArraySlice<UInt8>] = []
        for part in ByteText.components(ofPath: joined) where !part.isEmpty {  // bytes, not Characters
            if part.elementsEqual([0x2E]) { continue }
            if part.elementsEqual([0x2E, 0x2E]) { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + PathCodec.string(fromBytes: Array(parts.joined(separator: [ByteText.slash])))
    }
}
