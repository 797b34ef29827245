/// The one check for paths that come from inside files (split lists, annotation files, CSVs,
/// manifests, index files): an entry is a relative path that must stay inside the folder the file
/// belongs to. `checkName` is the part that looks at the text alone (no `..`, `.` or empty
/// component, not absolute, no NUL or other control character, at most 4096 bytes);
/// `ConfinedFolder.resolve` adds the file system's part (symbolic links are resolved and the real
/// path must lie inside the folder's real path). Every refusal names the entry, the file that
/// listed it and the line. Every new reader of such files (NYU or DAVIS lists, SPair annotations,
/// revisitop `gnd` names) calls one of the two; docs/SECURITY.md says so.
///
///     let folder = try ConfinedFolder(root)                       // once per list
///     let image = try folder.resolve(entry, listedIn: list, line: n)  // per entry: root/entry
public enum ConfinedPath {
    /// An entry of a file that names a path outside its folder (or no usable path at all).
    public struct Refusal: Error, CustomStringConvertible, Equatable, Sendable {
        /// The entry as the file wrote it.
        public var entry: String
        /// The file that named it.
        public var listedIn: String
        /// Its line (1-based) when the file has lines.
        public var line: Int?
        /// Why it was refused.
        public var reason: String

        public var description: String {
            "\(PathCodec.display(listedIn))\(line.map { " line \($0)" } ?? ""): entry '\(ConfinedPath.shown(entry))' \(reason); "
                + "a list may only name files inside its own folder, so the list is refused: fix or remove that entry"
        }
    }

    /// Longest entry accepted, in bytes (PATH_MAX).
    public static let maxBytes = 4096

    /// Why `entry` is not a relative path that stays inside its folder, judged on its text alone;
    /// nil when it is one.
    public static func problem(with entry: String) -> String? {
        // Judged on the bytes the file system will see (`PathCodec`), not on `Character`s: a "/"
        // followed by a combining mark, or after a prepend character, is still a separator.
        let bytes = PathCodec.bytes(of: entry)
        if bytes.isEmpty { return "is empty" }
        if bytes.count > maxBytes { return "is longer than \(maxBytes) bytes" }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "holds a NUL, line break or other control character" }
        if bytes[0] == ByteText.slash { return "is an absolute path" }
        for part in bytes.split(separator: ByteText.slash, omittingEmptySubsequences: false) {
            if part.elementsEqual([0x2E, 0x2E]) { return "climbs out of the folder with '..'" }
            if part.elementsEqual([0x2E]) || part.isEmpty { return "has an empty or '.' component" }
        }
        return nil
    }

    /// Throws unless `entry` passes `problem(with:)`. For names that are only looked up (never
    /// opened); names that are opened go through `ConfinedFolder.resolve`.
    public static func checkName(_ entry: String, listedIn: String, line: Int? = nil) throws(Refusal) {
        if let reason = problem(with: entry) { throw Refusal(entry: entry, listedIn: listedIn, line: line, reason: reason) }
    }

    /// `entry` for a message: bytes that are not UTF-8 and control characters as `\xNN`, cut to
    /// 200 characters, so that a hostile entry cannot forge lines or escape sequences.
    public static func shown(_ entry: String) -> String {
        var out = ""
        for scalar in PathCodec.display(String(entry.unicodeScalars.prefix(200))).unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return entry.unicodeScalars.count > 200 ? out + "..." : out
    }
}

/// A folder that the entries of a file must stay inside (a data set root, a model folder, a
/// shard folder). Its real path is resolved once; each entry is then checked on its text and on
/// where its symbolic links lead.
public struct ConfinedFolder: Sendable {
    /// The folder as given; resolved entries are joined to it (so paths keep the user's spelling).
    public let path: String
    /// The folder with every symbolic link resolved.
    public let realPath: String

    /// Throws `FileSystemError` when the folder cannot be resolved (missing, unreadable).
    public init(_ path: String) throws {
        let bytes = PathCodec.bytes(of: path)
        self.path = bytes.count > 1 && bytes.last == ByteText.slash ? PathCodec.string(fromBytes: bytes.dropLast()) : path
        realPath = try FileSystem.realPath(path)
    }

    /// `path/entry`, after checking that `entry` passes `ConfinedPath.problem(with:)` and that
    /// what it names, with symbolic links resolved, lies inside this folder. A missing file is
    /// fine (whoever opens it reports it); then its deepest existing parent must lie inside.
    public func resolve(_ entry: String, listedIn: String, line: Int? = nil) throws(ConfinedPath.Refusal) -> String {
        try ConfinedPath.checkName(entry, listedIn: listedIn, line: line)
        let joined = path + "/" + entry
        var candidate = joined
        while true {
            let resolved: String
            do { resolved = try FileSystem.realPath(candidate) } catch {
                // Missing (or a broken link): judge the part of the path that exists.
                let parent = ByteText.dropLastComponent(candidate)
                guard PathCodec.bytes(of: parent).count > PathCodec.bytes(of: path).count else { return joined }
                candidate = parent
                continue
            }
            // Bytes on a "/" boundary: `hasPrefix` would take `/d/e\u{301}x/...` as inside `/d/\u{e9}x`.
            guard ByteText.isInside(resolved, folder: realPath) else {
                throw ConfinedPath.Refusal(entry: entry, listedIn: listedIn, line: line,
                                           reason: "leads through a symbolic link to \(ConfinedPath.shown(resolved)), outside \(ConfinedPath.shown(realPath))")
            }
            return joined
        }
    }
}
