import Foundation
import Heads

/// Database vectors read a block of rows at a time (a file, memory, or generated for a bench).
public protocol VectorBlocks {
    var count: Int { get }
    var dim: Int { get }
    /// Fills `into` ([rows.count, dim]) with the rows `rows`.
    func read(rows: Range<Int>, into: UnsafeMutableBufferPointer<Float>) throws
}

/// Rows held in memory.
public struct VectorsInMemory: VectorBlocks {
    public let values: [Float]
    public let dim: Int
    public var count: Int { dim == 0 ? 0 : values.count / dim }

    public init(values: [Float], dim: Int) { (self.values, self.dim) = (values, dim) }

    public func read(rows: Range<Int>, into: UnsafeMutableBufferPointer<Float>) throws {
        values.withUnsafeBufferPointer { src in
            _ = into.initialize(from: src[(rows.lowerBound * dim)..<(rows.upperBound * dim)])
        }
    }
}

/// One query's ranking: its best `topK` database rows, best first, and the exact 0-based
/// positions in its full ranking of the rows it tracks (its positives and junk).
public struct QueryRanking: Sendable, Equatable {
    public var top: [(index: Int, score: Float)]
    public var positions: [Int: Int]

    public static func == (a: QueryRanking, b: QueryRanking) -> Bool {
        a.positions == b.positions && a.top.elementsEqual(b.top) { $0.index == $1.index && $0.score == $1.score }
    }
}

/// Ranks a database for every query by inner product (cosine on unit rows) without holding the
/// ranking or the database: rows stream in blocks sized by a memory budget, each block is scored
/// for all queries by one `sgemm`, and each query keeps a top-k heap. The order is by score,
/// higher first, and equal scores by database index, lower first: the order
/// `np.argsort(-sim, axis=0, kind="stable")` gives. A tracked row's position is the number of
/// rows ordered before it, counted in a second pass against its score from the first (the same
/// blocks through the same `sgemm`, so the same bits); the first pass reads only the blocks that
/// hold tracked rows.
public enum RetrievalRanking {
    /// Block rows for a memory budget of `bytes` (the block and its scores), at least 1.
    public static func blockRows(budget bytes: Int, dim: Int, queries: Int) -> Int {
        max(1, bytes / (4 * max(1, dim + queries)))
    }

    public static func rank(queries: [Float], database: VectorBlocks, topK: Int, tracked: [[Int]], blockRows: Int,
                            onProgress: (Int) -> Void = { _ in }) throws -> [QueryRanking] {
        let dim = database.dim, n = database.count, nq = tracked.count
        guard dim > 0, queries.count == nq * dim, blockRows > 0 else {
            throw TrainingError.badOption("retrieval ranking: \(queries.count) query values for \(nq) queries of width \(dim)")
        }
        let targets = tracked.map { Array(Set($0.filter { (0..<n).contains($0) })) }
        // Pass 1: each tracked row's score, from the blocks that hold one.
        var scores = [[Int: Float]](repeating: [:], count: nq)
        let blocksWithTracked = Set(targets.joined().map { $0 / blockRows })
        try forEachBlock(queries, database, blockRows, only: blocksWithTracked) { start, rows, s in
            for q in 0..<nq {
                for t in targets[q] where t >= start && t < start + rows { scores[q][t] = s[q * rows + t - start] }
            }
        }
        var states = (0..<nq).map { QueryState(topK: min(topK, n), tracked: scores[$0]) }
        try forEachBlock(queries, database, blockRows, only: nil) { start, rows, s in
            states.withUnsafeMutableBufferPointer { st in
                // Queries are independent: each updates its own state from its own row of scores.
                let p = BlockPointers(states: st.baseAddress!, scores: s.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: nq) { q in
                    p.states[q].consume(UnsafeBufferPointer(start: p.scores + q * rows, count: rows), start: start)
                }
            }
            onProgress(start + rows)
        }
        return states.map { $0.result() }
    }

    /// Scores [nq, rows] of each block (`only`: the block numbers to visit; nil: all).
    private static func forEachBlock(_ queries: [Float], _ database: VectorBlocks, _ blockRows: Int, only: Set<Int>?,
                                     _ body: (Int, Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        let dim = database.dim, nq = queries.count / dim, blockRows = min(blockRows, max(1, database.count))
        var block = [Float](repeating: 0, count: blockRows * dim)
        var scores = [Float](repeating: 0, count: blockRows * nq)
        for start in stride(from: 0, to: database.count, by: blockRows) where only?.contains(start / blockRows) ?? true {
            let rows = min(blockRows, database.count - start)
            try block.withUnsafeMutableBufferPointer { try database.read(rows: start..<(start + rows), into: UnsafeMutableBufferPointer(rebasing: $0[0..<(rows * dim)])) }
            try scores.withUnsafeMutableBufferPointer { s in
                queries.withUnsafeBufferPointer { qp in
                    block.withUnsafeBufferPointer { bp in
                        BLAS.gemm(qp.baseAddress!, bp.baseAddress!, transposeB: true, into: s.baseAddress!, m: nq, n: rows, k: dim)
                    }
                }
                try body(start, rows, UnsafeBufferPointer(s))
            }
        }
    }
}

private struct BlockPointers: @unchecked Sendable {
    let states: UnsafeMutablePointer<QueryState>
    let scores: UnsafePointer<Float>
}

/// One query's top-k heap and the counts that give its tracked rows' positions.
struct QueryState {
    /// A min-heap of the best rows so far: its root is the one ordered last.
    private var heap: [(score: Float, index: Int)] = []
    private let topK: Int
    /// Tracked rows' scores and indices, ordered as the ranking orders them, and how many rows are
    /// ordered before each (as increments at the first tracked row each counted row precedes).
    private let orderScores: [Float]
    private let orderIndices: [Int]
    private var before: [Int]

    init(topK: Int, tracked: [Int: Float]) {
        self.topK = topK
        let order = tracked.map { (score: $0.value, index: $0.key) }.sorted { Self.precedes($0, $1) }
        (orderScores, orderIndices) = (order.map(\.score), order.map(\.index))
        before = [Int](repeating: 0, count: order.count + 1)
        heap.reserveCapacity(topK)
    }

    /// The ranking's order: higher score first, then lower index.
    @inline(__always) static func precedes(_ a: (score: Float, index: Int), _ b: (score: Float, index: Int)) -> Bool {
        a.score > b.score || (a.score == b.score && a.index < b.index)
    }

    /// The first tracked row that row `index` of `score` precedes (the count when none): past the
    /// tracked rows of higher score (a branch-free binary search), then past those of equal score
    /// and an index not above its own (a row does not precede itself).
    @inline(__always) private func firstPreceded(_ score: Float, _ index: Int, _ s: UnsafeBufferPointer<Float>) -> Int {
        var base = 0, n = s.count
        while n > 1 {
            let half = n / 2
            base = s[base + half] > score ? base + half : base
            n -= half
        }
        var p = base + (s[base] > score ? 1 : 0)
        while p < s.count, s[p] == score, orderIndices[p] <= index { p += 1 }
        return p
    }

    mutating func consume(_ scores: UnsafeBufferPointer<Float>, start: Int) {
        let lowest = orderScores.last ?? .infinity
        orderScores.withUnsafeBufferPointer { tracked in
            for (offset, score) in scores.enumerated() where score >= lowest {
                before[firstPreceded(score, start + offset, tracked)] += 1
            }
        }
        guard topK > 0 else { return }
        for (offset, score) in scores.enumerated() {
            let item = (score: score, index: start + offset)
            if heap.count < topK {
                heap.append(item)
                siftUp(heap.count - 1)
            } else if Self.precedes(item, heap[0]) {
                heap[0] = item
                siftDown(0)
            }
        }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0, Self.precedes(heap[(i - 1) / 2], heap[i]) {
            heap.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            var worst = i
            for child in [2 * i + 1, 2 * i + 2] where child < heap.count && Self.precedes(heap[worst], heap[child]) { worst = child }
            if worst == i { return }
            heap.swapAt(i, worst)
            i = worst
        }
    }

    func result() -> QueryRanking {
        var positions: [Int: Int] = [:], running = 0
        for (m, index) in orderIndices.enumerated() {
            running += before[m]
            positions[index] = running
        }
        return QueryRanking(top: heap.sorted { Self.precedes($0, $1) }.map { ($0.index, $0.score) }, positions: positions)
    }
}
