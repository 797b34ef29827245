import Foundation

/// MD5 (RFC 1321) in plain Swift, incremental, for checking downloads against published sums.
/// (Not for security: MD5 is broken against deliberate collisions.)
public struct MD5: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    public init() { buffer.reserveCapacity(64) }

    /// Feeds more bytes.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            buffer.append(byte)
            length &+= 1
            if buffer.count == 64 {
                buffer.withUnsafeBufferPointer { compress($0) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Feeds more bytes (fast path for `Data`: whole blocks are hashed in place).
    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            var start = 0
            if !buffer.isEmpty {
                let take = min(64 - buffer.count, all.count)
                buffer.append(contentsOf: all[0 ..< take])
                start = take
                if buffer.count == 64 {
                    buffer.withUnsafeBufferPointer { compress($0) }
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            while all.count - start >= 64 {
                compress(UnsafeBufferPointer(rebasing: all[start ..< start + 64]))
                start += 64
            }
            if start < all.count { buffer.append(contentsOf: all[start...]) }
        }
        length &+= UInt64(data.count)
    }

    /// The 16-byte digest of everything fed so far (the hasher itself is left unchanged).
    public func digest() -> [UInt8] {
        var copy = self
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        let used = (buffer.count + 1) % 64
        tail += [UInt8](repeating: 0, count: used <= 56 ? 56 - used : 120 - used)
        for i in 0 ..< 8 { tail.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        let savedLength = copy.length
        copy.updateBlocks(tail)
        copy.length = savedLength
        var out: [UInt8] = []
        for word in [copy.state.0, copy.state.1, copy.state.2, copy.state.3] {
            for i in 0 ..< 4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return out
    }

    /// The digest as 32 lower-case hex digits.
    public func hexDigest() -> String {
        digest().map { String(format: "%02x", $0) }.joined()
    }

    /// The hex digest of `data`.
    public static func hex(_ data: Data) -> String {
        var h = MD5()
        h.update(data)
        return h.hexDigest()
    }

    /// The hex digest of the file at `path`, read in 1 MiB chunks.
    public static func hex(fileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DatasetError.badFile(path: path, reason: "cannot open it for reading")
        }
        defer { try? handle.close() }
        var h = MD5()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw DatasetError.badFile(path: path, reason: "read error (\(error.localizedDescription))")
            }
            guard let chunk, !chunk.isEmpty else { break }
            h.update(chunk)
        }
        return h.hexDigest()
    }

    private mutating func updateBlocks(_ bytes: [UInt8]) {
        for byte in bytes {
            buffer.append(byte)
            if buffer.count == 64 {
                buffer.withUnsafeBufferPointer { compress($0) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    private static let shifts: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                           5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]

    /// floor(abs(sin(i + 1)) * 2^32).
    private static let constants: [UInt32] = (0 ..< 64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296.0)) }

    private mutating func compress(_ block: UnsafeBufferPointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { m in
            for i in 0 ..< 16 {
                m[i] = UInt32(block[4 * i]) | UInt32(block[4 * i + 1]) << 8 | UInt32(block[4 * i + 2]) << 16 | UInt32(block[4 * i + 3]) << 24
            }
            compress(words: UnsafeBufferPointer(m))
        }
    }

    private mutating func compress(words m: UnsafeBufferPointer<UInt32>) {
        var (a, b, c, d) = state
        for i in 0 ..< 64 {
            var f: UInt32
            let g: Int
            switch i {
            case 0 ..< 16: f = (b & c) | (~b & d); g = i
            case 16 ..< 32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 32 ..< 48: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            f = f &+ a &+ Self.constants[i] &+ m[g]
            a = d
            d = c
            c = b
            let s = Self.shifts[i]
            b = b &+ ((f << s) | (f >> (32 - s)))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
