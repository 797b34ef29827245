import Foundation

/// Checkpointed work over a range of a listing: chunks of whole batches, the first one batch,
/// each later one sized from the time the last took to last about `seconds`.
enum TimedChunks {
    /// Calls `body` on consecutive chunks covering `range`.
    static func forEach(in range: Range<Int>, batchSize: Int, seconds: Double, _ body: (Range<Int>) throws -> Void) rethrows {
        var cursor = range.lowerBound, batches = 1
        while cursor < range.upperBound {
            let chunk = cursor..<min(range.upperBound, cursor + batches * max(batchSize, 1))
            let started = Date()
            try body(chunk)
            let perBatch = max(Date().timeIntervalSince(started), 1e-6) / Double(batches)
            batches = max(1, Int(min(1e6, seconds / perBatch)))
            cursor = chunk.upperBound
        }
    }
}
