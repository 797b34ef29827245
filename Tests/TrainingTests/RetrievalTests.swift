import Foundation
import Images
import Support
import TorchFile
@testable import Training
import XCTest

/// Retrieval: revisitop's metrics on the fixture's ranks, the streamed ranking against brute
/// force, the memory bound, and the ground-truth pickle reader.
final class RetrievalTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    struct Fixture: Decodable {
        struct Result: Decodable { let map: Double; let aps: [Double?]; let pr: [Double]; let prs: [[Double]?] }
        struct Query: Decodable { let easy: [Int]; let hard: [Int]; let junk: [Int] }
        struct GeM: Decodable { let tokens: [Float]; let out: [Float] }
        let dim: Int, database: [Float], queries: [Float], gnd: [Query], ranks: [[Int]], results: [String: Result], gem: GeM
    }

    /// GeM pooling equals cirtorch's formula run in PyTorch (float32) to float precision.
    func testGeMMatchesCirtorch() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/retrieval.json")))
        let ours = PatchPooling.gem(f.gem.tokens[...], tokens: 12, dim: 5)
        for (a, b) in zip(ours, f.gem.out) { XCTAssertEqual(a, b, accuracy: 2e-6 * max(1, abs(b))) }
        XCTAssertEqual(ours.count, 5)
    }

    /// The ranking (in blocks of 7 rows, so ties straddle blocks) and compute_map equal
    /// revisitop's on the same data, to the last bit.
    func testMatchesRevisitopComputeMapExactly() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/retrieval.json")))
        let n = f.database.count / f.dim
        let queries = f.gnd.map { RetrievalQuery(name: "", box: nil, easy: $0.easy, hard: $0.hard, junk: $0.junk) }
        let rankings = try RetrievalRanking.rank(queries: f.queries, database: VectorsInMemory(values: f.database, dim: f.dim), topK: n,
                                                 tracked: queries.map { $0.easy + $0.hard + $0.junk }, blockRows: 7)
        for (q, ranking) in rankings.enumerated() { XCTAssertEqual(ranking.top.map(\.index), f.ranks[q], "query \(q)") }
        for setup in RetrievalProtocol.allCases {
            let score = RetrievalMAP.compute(zip(queries, rankings).map { query, ranking in
                let sets = setup.sets(query)
                return .init(positives: Set(sets.ok).compactMap { ranking.positions[$0] }.sorted(),
                             junk: Set(sets.junk).compactMap { ranking.positions[$0] }.sorted(), okCount: sets.ok.count)
            })
            let expected = try XCTUnwrap(f.results[setup.rawValue])
            XCTAssertEqual(score.mAP, expected.map, setup.rawValue)
            XCTAssertEqual(score.mPrecision, expected.pr, setup.rawValue)
            XCTAssertEqual(score.aps, expected.aps, setup.rawValue)
            XCTAssertEqual(score.precisions, expected.prs, setup.rawValue)
        }
        XCTAssertEqual(f.results["H"]?.aps.filter { $0 == nil }.count, 3, "the fixture has queries without hard positives")
    }

    /// Positions and top-k equal a stable sort of every score, for block sizes that cut through
    /// runs of equal scores.
    func testRankingEqualsBruteForceWithTies() throws {
        var rng = SeededRandom(seed: 7)
        let n = 97, dim = 3, nq = 5
        let db = (0..<(n * dim)).map { _ in Float(Int(rng.next() % 3)) - 1 }, qs = (0..<(nq * dim)).map { _ in Float(Int(rng.next() % 3)) - 1 }
        let tracked = (0..<nq).map { q in (0..<n).filter { ($0 + q) % 4 == 0 } }
        for blockRows in [1, 5, 16, 200] {
            let rankings = try RetrievalRanking.rank(queries: qs, database: VectorsInMemory(values: db, dim: dim), topK: 10, tracked: tracked,
                                                     blockRows: blockRows)
            for q in 0..<nq {
                let scores = (0..<n).map { j in (0..<dim).reduce(Float(0)) { $0 + db[j * dim + $1] * qs[q * dim + $1] } }
                let order = (0..<n).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
                XCTAssertEqual(rankings[q].top.map(\.index), Array(order.prefix(10)), "block \(blockRows) query \(q)")
                for t in tracked[q] { XCTAssertEqual(rankings[q].positions[t], order.firstIndex(of: t), "block \(blockRows) query \(q) row \(t)") }
            }
        }
    }

    /// The block (rows and scores) fits the budget whatever the database size.
    func testBlockFitsTheBudget() {
        for (budget, dim, queries) in [(1 << 20, 384, 70), (256 << 20, 768, 70), (100, 384, 70)] {
            let rows = RetrievalRanking.blockRows(budget: budget, dim: dim, queries: queries)
            XCTAssertGreaterThanOrEqual(rows, 1)
            if budget >= 4 * (dim + queries) { XCTAssertLessThanOrEqual(rows * (dim + queries) * 4, budget) }
        }
    }

    /// Python's own pickles of a revisitop-style ground truth (protocols 3 and 4) read back; the
    /// synthetic set's writer round-trips.
    func testReadsPythonPicklesAndRoundTrips() throws {
        for protocolNumber in [3, 4] {
            let gt = try RetrievalGroundTruth.read(path: fixtures + "/gnd_protocol\(protocolNumber).pkl")
            XCTAssertEqual(gt.name, "protocol\(protocolNumber)")
            XCTAssertEqual(gt.imlist, ["all_souls_000001", "ashmolean_000007", "x"])
            XCTAssertEqual(gt.queries, [RetrievalQuery(name: "all_souls_000013", box: [136.5, 34.1, 648.5, 955.7], easy: [0, 2], hard: [1], junk: [])])
        }
        let gt = RetrievalGroundTruth(name: "t", imlist: ["a", "b"], queries: [RetrievalQuery(name: "q", box: [0, 1.5, 2, 3], easy: [1], hard: [], junk: [0])])
        XCTAssertEqual(try RetrievalGroundTruth.parse(PlainPickle.parse(SyntheticRetrieval.pickle(gt).pickled(), path: "t"), name: "t", path: "t"), gt)
    }

    /// A database written to a vector file ranks as it does in memory; a crop keeps the box's pixels.
    func testVectorFileAndCrop() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vectors-\(UUID().uuidString).f32").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SeededRandom(seed: 3)
        let values = (0..<(50 * 4)).map { _ in rng.uniform(Float(-1), 1) }, query = (0..<4).map { _ in rng.uniform(Float(-1), 1) }
        let file = try VectorFile(path: path, dim: 4)
        try file.append(Array(values[0..<80]))
        try file.append(Array(values[80...]))
        try file.finish()
        XCTAssertEqual(file.count, 50)
        let fromFile = try RetrievalRanking.rank(queries: query, database: file, topK: 7, tracked: [[3, 9]], blockRows: 6)
        XCTAssertEqual(fromFile, try RetrievalRanking.rank(queries: query, database: VectorsInMemory(values: values, dim: 4), topK: 7,
                                                           tracked: [[3, 9]], blockRows: 50))
        let image = try RGBImage(width: 3, height: 2, pixels: (0..<18).map(UInt8.init))
        XCTAssertEqual(try QueryCrops.cropped(image, box: (1, 0, 3, 2)).pixels, [3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17])
    }

    /// PIL's crop box: Python's round (halves to even), checked against the image.
    func testQueryBoxRounding() throws {
        let box = try QueryCrops.pixelBox([136.5, 34.1, 648.5, 955.7], width: 1000, height: 1000)
        XCTAssertEqual([box.x0, box.y0, box.x1, box.y1], [136, 34, 648, 956])
    }
}
