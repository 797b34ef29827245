import Support

/// The table of contents of a store-only zip archive, as `torch.save` writes it, read from the
/// central directory (ZIP64 included) and checked against the local headers. Entries are never
/// extracted to disk: their names are only looked up, and names that could mean a path outside
/// the archive (absolute, `..`, backslashes, control characters) are refused outright, as are
/// compressed or encrypted entries, duplicate names, overlapping records and anything past the
/// end of the file.
struct ZipArchive {
    /// One stored entry: its bytes are `file[dataStart..<dataStart + size]`.
    struct Entry {
        let name: String
        let dataStart: Int
        let size: Int
        let crc32: UInt32
    }

    /// Entries by name.
    let entries: [String: Entry]

    /// Most entries accepted (a ViT-7B checkpoint has about 700).
    static let maxEntries = 1 << 20
    /// Longest entry name accepted.
    static let maxNameBytes = 4096

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    }

    /// Reads the directory of `file`.
    init(file: MappedFile) throws {
        let path = file.path
        func fail(_ reason: String) -> TorchFileError { .badArchive(path: path, reason: reason) }
        entries = try file.withBytes { bytes in
            let r = Reader(bytes: bytes)
            let n = bytes.count
            // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes.
            guard n >= 22 else { throw fail("the file is \(n) bytes, too short for a zip archive (truncated?)") }
            var eocd = -1
            var at = n - 22
            while at >= max(0, n - 22 - 65535) {
                if r.u32(at) == 0x0605_4B50 && at + 22 + r.u16(at + 20) == n { eocd = at; break }
                at -= 1
            }
            guard eocd >= 0 else {
                throw fail("no zip end record (the file is truncated, or an old pre-1.6 torch.save file: re-save it with a current PyTorch)")
            }
            guard r.u16(eocd + 4) == 0, r.u16(eocd + 6) == 0 else { throw fail("multi-part archives are not supported") }
            var count = r.u16(eocd + 10)
            var directorySize = UInt64(r.u32(eocd + 12))
            var directoryStart = UInt64(r.u32(eocd + 16))
            if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryStart == 0xFFFF_FFFF {
                // ZIP64: a locator just before the end record points to the ZIP64 end record.
                guard eocd >= 76, r.u32(eocd - 20) == 0x0706_4B50 else { throw fail("a ZIP64 archive without its locator") }
                let record = r.u64(eocd - 12)
                guard record <= UInt64(eocd - 20 - 56), r.u32(Int(record)) == 0x0606_4B50 else {
                    throw fail("the ZIP64 end record lies outside the file")
                }
                let start = Int(record)
                let entries = r.u64(start + 32)
                guard entries <= UInt64(Self.maxEntries) else { throw fail("it declares \(entries) entries, more than \(Self.maxEntries)") }
                count = Int(entries)
                directorySize = r.u64(start + 40)
                directoryStart = r.u64(start + 48)
            }
            guard count <= Self.maxEntries else { throw fail("it declares \(count) entries, more than \(Self.maxEntries)") }
            guard directoryStart <= UInt64(n), directorySize <= UInt64(n) - directoryStart, directoryStart + directorySize <= UInt64(eocd) else {
                throw fail("the central directory lies outside the file (truncated?)")
            }
            return try Self.readDirectory(r, start: Int(directoryStart), end: Int(directoryStart + directorySize), count: count, fail: fail)
        }
    }

    /// Parses `count` central-directory records in `start..<end` and checks each local header.
    private static func readDirectory(_ r: Reader, start: Int, end: Int, count: Int,
                                      fail: (String) -> TorchFileError) throws -> [String: Entry] {
        var entries: [String: Entry] = [:]
        var spans: [(start: Int, end: Int)] = []
        var at = start
        for _ in 0..<count {
            guard at <= end - 46, r.u32(at) == 0x0201_4B50 else { throw fail("a damaged central directory record") }
            let flags = r.u16(at + 8), method = r.u16(at + 10)
            let crc = UInt32(r.u32(at + 16))
            var compressed = UInt64(r.u32(at + 20)), size = UInt64(r.u32(at + 24))
            let nameLength = r.u16(at + 28), extraLength = r.u16(at + 30), commentLength = r.u16(at + 32)
            var local = UInt64(r.u32(at + 42))
            let recordEnd = at + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= end else { throw fail("a central directory record runs past its end") }
            let name = try entryName(UnsafeRawBufferPointer(rebasing: r.bytes[(at + 46)..<(at + 46 + nameLength)]), fail: fail)
            // ZIP64 sizes and offset, for the fields saturated at 0xFFFFFFFF, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = r.u16(extra), length = r.u16(extra + 2)
                guard extra + 4 + length <= extraEnd else { throw fail("a damaged extra field in '\(TorchFileError.clip(name))'") }
                if id == 0x0001 {
                    var field = extra + 4
                    func next() throws -> UInt64 {
                        guard field + 8 <= extra + 4 + length else { throw fail("a short ZIP64 field in '\(TorchFileError.clip(name))'") }
                        defer { field += 8 }
                        return r.u64(field)
                    }
                    if size == 0xFFFF_FFFF { size = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if local == 0xFFFF_FFFF { local = try next() }
                }
                extra += 4 + length
            }
            guard flags & 0x41 == 0 else { throw fail("'\(TorchFileError.clip(name))' is encrypted") }
            guard method == 0, compressed == size else {
                throw fail("'\(TorchFileError.clip(name))' is compressed (method \(method)); PyTorch stores entries uncompressed")
            }
            guard entries[name] == nil else { throw fail("the name '\(TorchFileError.clip(name))' appears twice") }
            // The local header repeats the name; the data follows it and its extra field.
            guard local <= UInt64(start), UInt64(start) - local >= 30 else { throw fail("'\(TorchFileError.clip(name))' has a local header outside the file") }
            let header = Int(local)
            guard r.u32(header) == 0x0403_4B50 else { throw fail("'\(TorchFileError.clip(name))' has no local header where the directory says") }
            let localName = r.u16(header + 26), localExtra = r.u16(header + 28)
            let dataStart = header + 30 + localName + localExtra
            guard dataStart <= start, localName == nameLength,
                  r.bytes[(header + 30)..<(header + 30 + localName)].elementsEqual(r.bytes[(at + 46)..<(at + 46 + nameLength)]) else {
                throw fail("the local header of '\(TorchFileError.clip(name))' does not match the directory")
            }
            guard size <= UInt64(start - dataStart) else { throw fail("'\(TorchFileError.clip(name))' runs past the end of the data (truncated?)") }
            entries[name] = Entry(name: name, dataStart: dataStart, size: Int(size), crc32: crc)
            spans.append((header, dataStart + Int(size)))
            at = recordEnd
        }
        spans.sort { $0.start < $1.start }
        for (a, b) in zip(spans, spans.dropFirst()) where b.start < a.end {
            throw fail("two entries overlap")
        }
        return entries
    }

    /// The entry name, refused unless it is a plain relative UTF-8 path without `..` parts.
    private static func entryName(_ raw: UnsafeRawBufferPointer, fail: (String) -> TorchFileError) throws -> String {
        guard raw.count > 0, raw.count <= maxNameBytes, let name = String(validating: raw, as: UTF8.self) else {
            throw fail("an entry name that is empty, too long or not UTF-8")
        }
        // Judged on the bytes (a "/" before a combining mark is one Character, not "/").
        let parts = raw.split(separator: ByteText.slash, omittingEmptySubsequences: false)
        let unsafe = raw.first == ByteText.slash || raw.contains(0x5C)
            || parts.contains { $0.elementsEqual([0x2E, 0x2E]) || $0.elementsEqual([0x2E]) || $0.isEmpty }
            || raw.contains { $0 < 0x20 || $0 == 0x7F }
        guard !unsafe else { throw fail("the entry name '\(TorchFileError.clip(name))' is not a plain relative path") }
        return name
    }
}

/// CRC-32 (the zip polynomial), for checking the small entries that are parsed.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { i in
        (0..<8).reduce(UInt32(i)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
