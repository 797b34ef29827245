/// Splitting, prefixes and identity on what text stands for, not on Swift's `Character`s.
///
/// `String`'s `split(separator:)`, `components(separatedBy:)`, `hasPrefix`, `hasSuffix`,
/// `replacingOccurrences` and `==` work on grapheme clusters under canonical equivalence: a `/`
/// followed by a combining mark (`"/\u{301}"`) or preceded by a prepend character
/// (`"\u{600}/"`) is one `Character` that is not `"/"`, and `"e\u{301}" == "\u{e9}"` although a
/// file system sees two different names. Text from outside dinoprobe (paths, file names, lines of
/// a file, metadata of a saved file) is cut and compared here instead: on its Unicode scalars
/// (text) or on the bytes `PathCodec` gives it (paths).
public enum ByteText {
    /// The parts of `text` between occurrences of `separator`, cut scalar by scalar; with
    /// `maxSplits`, the last part keeps the rest (separators included).
    public static func split(_ text: String, on separator: Unicode.Scalar, omittingEmpty: Bool = false,
                             maxSplits: Int = .max) -> [String] {
        text.unicodeScalars.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: omittingEmpty)
            .map { String(String.UnicodeScalarView($0)) }
    }

    /// The parts of `text` between runs of white space (Unicode's `White_Space` scalars), as
    /// Python's `str.split()` cuts them.
    public static func fields(_ text: String) -> [String] {
        text.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String(String.UnicodeScalarView($0)) }
    }

    /// Whether `a` and `b` stand for the same bytes (`==` also equates canonically equivalent text).
    public static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) || PathCodec.bytes(of: a) == PathCodec.bytes(of: b)
    }

    /// Whether the bytes of `text` start with those of `prefix`.
    public static func hasPrefix(_ text: String, _ prefix: String) -> Bool {
        PathCodec.bytes(of: text).starts(with: PathCodec.bytes(of: prefix))
    }

    /// Whether the bytes of `text` end with those of `suffix`.
    public static func hasSuffix(_ text: String, _ suffix: String) -> Bool {
        PathCodec.bytes(of: text).reversed().starts(with: PathCodec.bytes(of: suffix).reversed())
    }

    /// `text` without `suffix` (compared as bytes); nil when it does not end with it.
    public static func dropping(suffix: String, from text: String) -> String? {
        let bytes = PathCodec.bytes(of: text), tail = PathCodec.bytes(of: suffix)
        guard bytes.count >= tail.count, bytes.suffix(tail.count).elementsEqual(tail) else { return nil }
        return PathCodec.string(fromBytes: bytes.dropLast(tail.count))
    }

    /// `text` without `prefix` (compared as bytes); nil when it does not start with it.
    public static func dropping(prefix: String, from text: String) -> String? {
        let bytes = PathCodec.bytes(of: text), head = PathCodec.bytes(of: prefix)
        guard bytes.starts(with: head) else { return nil }
        return PathCodec.string(fromBytes: bytes.dropFirst(head.count))
    }

    /// Whether `path` is `folder` or lies below it, compared as bytes on a `/` boundary (so
    /// `/data/ab` is not inside `/data/a`, and `/data/e\u{301}x` is not inside `/data/\u{e9}x`).
    public static func isInside(_ path: String, folder: String) -> Bool {
        let p = PathCodec.bytes(of: path)
        var f = PathCodec.bytes(of: folder)
        if p == f { return true }
        if f.last != slash { f.append(slash) }
        return p.count > f.count && p.starts(with: f)
    }

    /// `path` relative to `folder` when it lies below it (bytes on a "/" boundary); nil otherwise.
    /// `hasPrefix` + `dropFirst(count)` on Characters misses "/" + a combining mark, or drops it.
    public static func relative(_ path: String, to folder: String) -> String? {
        dropping(prefix: hasSuffix(folder, "/") ? folder : folder + "/", from: path)
    }

    /// The `/`-separated components of `path`'s bytes, empty ones kept.
    public static func components(ofPath path: String) -> [ArraySlice<UInt8>] {
        PathCodec.bytes(of: path).split(separator: slash, omittingEmptySubsequences: false)
    }

    /// The last component of `path` (after its last `/` byte; the whole path when it has none).
    public static func lastComponent(_ path: String) -> String {
        let bytes = PathCodec.bytes(of: path)
        guard let cut = bytes.lastIndex(of: slash) else { return path }
        return PathCodec.string(fromBytes: bytes[(cut + 1)...])
    }

    /// `path` up to (not including) its last `/` byte; "" when it has none.
    public static func dropLastComponent(_ path: String) -> String {
        let bytes = PathCodec.bytes(of: path)
        guard let cut = bytes.lastIndex(of: slash) else { return "" }
        return PathCodec.string(fromBytes: bytes[..<cut])
    }

    /// The folder `path` lies in, as `NSString.deletingLastPathComponent` gives it but cut on
    /// bytes (and without its crash on a one-`Character` path): trailing "/" dropped, then
    /// everything before the last "/" ("/" for "/x", "" for "x").
    public static func parent(of path: String) -> String {
        var bytes = PathCodec.bytes(of: path)
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        guard let cut = bytes.lastIndex(of: slash) else { return "" }
        var head = bytes[..<cut]
        while head.count > 1, head.last == slash { head.removeLast() }
        return head.isEmpty ? "/" : PathCodec.string(fromBytes: head)
    }

    /// The name `path` ends with, as `NSString.lastPathComponent` gives it but cut on bytes:
    /// trailing "/" dropped, then what follows the last "/" ("/" for "/").
    public static func name(of path: String) -> String {
        var bytes = PathCodec.bytes(of: path)
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        guard bytes.count > 1, let cut = bytes.lastIndex(of: slash) else { return PathCodec.string(fromBytes: bytes) }
        return PathCodec.string(fromBytes: bytes[(cut + 1)...])
    }

    /// `name` without its extension (from its last "." on, when that "." is not its first byte),
    /// cut on bytes: `NSString.deletingPathExtension` misses a "." after a prepend character.
    public static func stem(of name: String) -> String {
        let bytes = PathCodec.bytes(of: name)
        guard let dot = bytes.lastIndex(of: 0x2E), dot > 0, !bytes.contains(slash) else { return name }
        return PathCodec.string(fromBytes: bytes[..<dot])
    }

    /// The extension of `name` (after its last ".", not counting a leading one), cut on bytes.
    public static func pathExtension(of name: String) -> String {
        let bytes = PathCodec.bytes(of: name)
        guard let dot = bytes.lastIndex(of: 0x2E), dot > 0, !bytes.contains(slash) else { return "" }
        return PathCodec.string(fromBytes: bytes[(dot + 1)...])
    }

    /// The `/` byte.
    public static let slash: UInt8 = 0x2F
}
