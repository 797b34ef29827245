import Support

/// Draws training batches the way every dinoprobe training loop does: indices walk through a
/// random permutation of the samples, and a fresh permutation starts when one runs out (so an
/// epoch sees every sample once). The generator is the caller's, so a loop that also draws
/// dropout masks from it keeps one reproducible stream.
public struct BatchSampler: Sendable {
    public let count: Int
    /// Indices per batch (at most `count`).
    public let batchSize: Int
    /// The permutation being walked, and the position in it (saved in training states).
    var order: [Int] = []
    var cursor = 0

    public init(count: Int, batchSize: Int) throws {
        try require(count > 0 && batchSize > 0, "batch sampler", "\(count) samples in batches of \(batchSize)")
        self.count = count
        self.batchSize = min(batchSize, count)
    }

    /// The next batch of indices.
    public mutating func next(using random: inout SeededRandom) -> [Int] {
        var batch: [Int] = []
        batch.reserveCapacity(batchSize)
        while batch.count < batchSize {
            if cursor == order.count {
                order = random.permutation(count)
                cursor = 0
            }
            batch.append(order[cursor])
            cursor += 1
        }
        return batch
    }
}
