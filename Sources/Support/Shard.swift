/// One part of a job split across processes: shard `index` of `count` (0-based). Which items a
/// shard gets is a pure function of the number of items, so every process computes the split by
/// itself, with no coordination.
public struct Shard: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The most shards a job may be split into.
    public static let maxCount = 100_000

    public let index: Int
    public let count: Int

    /// Throws unless 0 <= index < count <= `maxCount`.
    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1, count <= Self.maxCount else {
            throw ShardError("a job splits into 1 to \(Self.maxCount) shards, not \(count)")
        }
        guard index >= 0, index < count else { throw ShardError("shard \(index) does not exist among \(count) (they are 0 to \(count - 1))") }
        self.index = index
        self.count = count
    }

    /// Parses "I/N" (0-based I).
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardError("'\(text.prefix(40))' is not a shard: write I/N, e.g. 0/4 for the first of 4 (0-based)")
        }
        try self.init(index: i, count: n)
    }

    /// "I/N".
    public var description: String { "\(index)/\(count)" }

    /// This shard's items among `items`, a contiguous range made of whole groups of `alignment`
    /// (batches): the groups are dealt out in order, as evenly as possible. Shards beyond the
    /// number of groups are empty.
    public func range(items: Int, alignment: Int) -> Range<Int> {
        let a = max(1, alignment), n = max(0, items)
        let groups = n / a + (n % a == 0 ? 0 : 1)
        // floor(k * groups / count), without overflow for any item count.
        func boundary(_ k: Int) -> Int {
            let (q, r) = groups.quotientAndRemainder(dividingBy: count)
            let (items, overflow) = (q * k + r * k / count).multipliedReportingOverflow(by: a)
            return overflow ? n : min(n, items)
        }
        return boundary(index)..<boundary(index + 1)
    }

    /// The shards (0-based) of `count` over `done.count` items (alignment 1) that still hold an
    /// item not done.
    public static func unfinished(count: Int, done: [Bool]) throws -> [Int] {
        try (0..<count).filter { i in !done[try Shard(index: i, count: count).range(items: done.count, alignment: 1)].allSatisfy { $0 } }
    }
}

/// A shard that cannot be chosen, with what to do about it.
public struct ShardError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
