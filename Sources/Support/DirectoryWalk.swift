import Foundation

/// Recursive folder listing that visits each real folder once: symbolic links to folders are
/// followed (as torchvision's ImageFolder does), but a link back to an ancestor, or a second
/// link to a folder already seen (in this walk or an earlier one of the same walker), is
/// reported instead of walked again, so loops end.
public struct DirectoryWalk {
    private var seen: Set<[UInt64]> = []

    /// A walker that treats `ancestors` (e.g. the data set root and split folder) as already
    /// visited, so a link back to them is a loop.
    public init(ancestors: [String] = []) {
        for folder in ancestors {
            if let st = (try? FileSystem.status(folder)) ?? nil { seen.insert([st.device, st.inode]) }
        }
    }

    /// What a walk found.
    public struct Result: Sendable {
        /// Files (anything that is not a folder), as paths under the root, sorted by relative path.
        public var files: [String] = []
        /// Folders not walked, with the reason (a loop, or unreadable).
        public var problems: [(path: String, reason: String)] = []
    }

    /// Lists `root` recursively; hidden entries (names starting with ".") are skipped. Errors
    /// inside sub-folders are collected in `problems`; an unreadable root throws.
    public static func files(under root: String, includeHidden: Bool = false) throws -> Result {
        var walker = DirectoryWalk()
        return try walker.files(under: root, includeHidden: includeHidden)
    }

    /// Lists `root` recursively, skipping every folder this walker has already visited.
    public mutating func files(under root: String, includeHidden: Bool = false) throws -> Result {
        var result = Result()
        guard let rootStatus = try FileSystem.status(root) else { throw FileSystemError.notFound(path: root) }
        guard rootStatus.kind == .directory else {
            throw FileSystemError.wrongKind(path: root, kind: rootStatus.kind.rawValue, expected: "a folder")
        }
        seen.insert([rootStatus.device, rootStatus.inode])
        var relative: [String] = []
        var seen = self.seen
        defer { self.seen = seen }
        func walk(_ folder: String, _ prefix: String) throws {
            for name in try FileSystem.list(folder) where includeHidden || !ByteText.hasPrefix(name, ".") {  // ".\u{301}x" is hidden
                let path = folder + "/" + name
                let status: FileStatus?
                do { status = try FileSystem.status(path) } catch {
                    result.problems.append((path, "\(error)"))
                    continue
                }
                guard let status else {
                    result.problems.append((path, "a broken symbolic link"))
                    continue
                }
                if status.kind == .directory {
                    guard seen.insert([status.device, status.inode]).inserted else {
                        result.problems.append((path, "a link to a folder already listed (a loop or a duplicate); not walked again"))
                        continue
                    }
                    do { try walk(path, prefix + name + "/") } catch {
                        result.problems.append((path, "\(error)"))
                    }
                } else {
                    relative.append(prefix + name)
                }
            }
        }
        try walk(root, "")
        relative.sort { Array(PathCodec.bytes(of: $0)).lexicographicallyPrecedes(PathCodec.bytes(of: $1)) }
        result.files = relative.map { root + "/" + $0 }
        return result
    }
}
