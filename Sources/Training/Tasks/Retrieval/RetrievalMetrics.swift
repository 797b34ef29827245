
/// revisitop's three difficulty setups, as its `example_evaluate.py` builds them: the positives
/// (`ok`) and the ignored (`junk`) database images of each query.
public enum RetrievalProtocol: String, Sendable, Codable, CaseIterable {
    case easy = "E", medium = "M", hard = "H"

    /// (positives, junk) of `query` under this setup.
    public func sets(_ query: RetrievalQuery) -> (ok: [Int], junk: [Int]) {
        switch self {
        case .easy: return (query.easy, query.junk + query.hard)
        case .medium: return (query.easy + query.hard, query.junk)
        case .hard: return (query.hard, query.junk + query.easy)
        }
    }
}

/// One setup's result: mAP and mP@k over the queries that have positives, and each query's AP
/// and P@k (nil for a query without positives, which revisitop leaves out of the means).
public struct RetrievalScore: Sendable, Codable, Equatable {
    public var mAP: Double?
    public var mPrecision: [Double]?
    public var aps: [Double?]
    public var precisions: [[Double]?]
}

/// revisitop's `compute_map` (python/evaluate.py), on the positions that the positives and junk
/// images hold in each query's full ranking instead of the ranking itself; the arithmetic and its
/// order are the same, so the results are the same doubles.
public enum RetrievalMAP {
    public static let kappas = [1, 5, 10]

    /// Per query: the sorted 0-based ranking positions of its positives and of its junk images
    /// (images missing from the ranking simply absent), and `positives`, the length of its `ok`
    /// list (which is AP's denominator, as `len(qgnd)` is).
    public struct QueryPositions: Sendable, Equatable {
        public var positives: [Int]
        public var junk: [Int]
        public var okCount: Int

        public init(positives: [Int], junk: [Int], okCount: Int) {
            (self.positives, self.junk, self.okCount) = (positives, junk, okCount)
        }
    }

    /// mAP, APs, mP@k and P@k as `compute_map(ranks, gnd, kappas)` returns them. A query whose
    /// positives all lie outside the ranking (only possible when database images were skipped)
    /// gets AP 0 and P@k 0 where Python would raise on `max([])`.
    public static func compute(_ queries: [QueryPositions], kappas: [Int] = kappas) -> RetrievalScore {
        var sum = 0.0, empty = 0
        var pr = [Double](repeating: 0, count: kappas.count)
        var aps: [Double?] = [], prs: [[Double]?] = []
        for q in queries {
            guard q.okCount > 0 else {
                empty += 1
                aps.append(nil)
                prs.append(nil)
                continue
            }
            var pos = q.positives
            // Lower each positive's position by the junk images ranked before it.
            var k = 0, ij = 0
            for ip in pos.indices {
                while ij < q.junk.count && pos[ip] > q.junk[ij] {
                    k += 1
                    ij += 1
                }
                pos[ip] -= k
            }
            let ap = averagePrecision(pos, okCount: q.okCount)
            sum += ap
            aps.append(ap)
            let oneBased = pos.map { $0 + 1 }
            let row = kappas.map { kappa -> Double in
                guard let last = oneBased.max() else { return 0 }
                let kq = min(last, kappa)
                return Double(oneBased.filter { $0 <= kq }.count) / Double(kq)
            }
            for j in row.indices { pr[j] += row[j] }
            prs.append(row)
        }
        let counted = queries.count - empty
        guard counted > 0 else { return RetrievalScore(mAP: nil, mPrecision: nil, aps: aps, precisions: prs) }
        return RetrievalScore(mAP: sum / Double(counted), mPrecision: pr.map { $0 / Double(counted) }, aps: aps, precisions: prs)
    }

    /// `compute_ap`: trapezoids under the precision-recall curve.
    static func averagePrecision(_ ranks: [Int], okCount: Int) -> Double {
        var ap = 0.0
        let recallStep = 1.0 / Double(okCount)
        for (j, rank) in ranks.enumerated() {
            let precision0 = rank == 0 ? 1.0 : Double(j) / Double(rank)
            let precision1 = Double(j + 1) / Double(rank + 1)
            ap += (precision0 + precision1) * recallStep / 2.0
        }
        return ap
    }
}
