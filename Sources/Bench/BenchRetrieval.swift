import ArgumentParser
import CommandLineKit
import Foundation
import Support
import Training

/// Database rows made on the fly (uniform in [-1, 1], each block from its own seeded stream), so
/// a benchmark streams a million rows without storing them.
struct GeneratedVectors: VectorBlocks {
    let count: Int
    let dim: Int

    func read(rows: Range<Int>, into: UnsafeMutableBufferPointer<Float>) throws {
        var rng = SeededRandom(seed: 30, stream: [UInt64(rows.lowerBound)])
        for i in 0..<(rows.count * dim) { into[i] = rng.uniform(-1, 1) }
    }
}

struct BenchRetrieval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieval",
        abstract: "Time the retrieval ranking: 70 queries against 1,000,000 x 384 generated database rows streamed in blocks (top 100 kept, 100 tracked rows per query ranked exactly).")

    @Option(help: "Database rows.")
    var rows: Int = 1_000_000

    @Option(help: "Feature width.")
    var dim: Int = 384

    @Option(help: "Queries.")
    var queries: Int = 70

    @Option(help: "MiB for a database block and its scores.")
    var rankingMemory: Int = 256

    @OptionGroup var bench: BenchOptions

    func validate() throws {
        try Check.range(rows, 1...100_000_000, "--rows")
        try Check.range(dim, 1...8192, "--dim")
        try Check.range(queries, 1...10_000, "--queries")
        try Check.range(rankingMemory, RetrievalSettings.Ranges.rankingMemoryMiB, "--ranking-memory")
    }

    func run() throws {
        bench.applyThreads()
        let database = GeneratedVectors(count: rows, dim: dim)
        var rng = SeededRandom(seed: 31)
        let q = (0..<(queries * dim)).map { _ in rng.uniform(Float(-1), 1) }
        // Positives and junk lie among the first 5,000 rows, as rOxford5k's do ahead of R1M.
        let tracked = (0..<queries).map { _ in (0..<100).map { _ in Int(rng.next() % UInt64(min(rows, 5000))) } }
        let blockRows = RetrievalRanking.blockRows(budget: rankingMemory << 20, dim: dim, queries: queries)
        var block = [Float](repeating: 0, count: min(blockRows, rows) * dim)
        let generateStart = Date()
        for start in stride(from: 0, to: rows, by: blockRows) {
            try block.withUnsafeMutableBufferPointer { try database.read(rows: start..<min(rows, start + blockRows), into: $0) }
        }
        let generate = Date().timeIntervalSince(generateStart)
        let start = Date()
        let rankings = try RetrievalRanking.rank(queries: q, database: database, topK: 100, tracked: tracked, blockRows: blockRows)
        let seconds = Date().timeIntervalSince(start)
        let peakMiB = peakResidentMiB()
        say(String(format: "retrieval ranking: %d queries x %d x %d rows in blocks of %d rows (%d MiB budget): %.2f s (of which generating the rows %.2f s), peak resident memory %.0f MiB; %d results per query",
                   queries, rows, dim, blockRows, rankingMemory, seconds, generate, peakMiB, rankings.first?.top.count ?? 0))
        try bench.record(["retrieval_seconds": seconds, "generate_seconds": generate, "peak_rss_mib": peakMiB, "block_rows": blockRows,
                          "rows": rows, "dim": dim, "queries": queries, "threads": bench.threads])
    }
}
