import Support

/// Labelled feature vectors [count, width].
public struct LabelledFeatures: Sendable {
    public var values: [Float]
    public var labels: [Int]
    public var width: Int
    public var count: Int { labels.count }

    public init(values: [Float], labels: [Int], width: Int) {
        self.values = values
        self.labels = labels
        self.width = width
    }

    /// The rows at `indices`.
    public func rows(_ indices: [Int]) -> LabelledFeatures {
        var v = [Float](repeating: 0, count: indices.count * width)
        v.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { src in
                for (r, i) in indices.enumerated() {
                    (out.baseAddress! + r * width).update(from: src.baseAddress! + i * width, count: width)
                }
            }
        }
        return LabelledFeatures(values: v, labels: indices.map { labels[$0] }, width: width)
    }

    /// A stratified split: about `fraction` of each class (at least one sample of every class
    /// that has two or more) goes to the second part. Deterministic for a seed.
    public func stratifiedSplit(fraction: Double, seed: UInt64) -> (keep: [Int], holdout: [Int]) {
        var random = SeededRandom(seed: seed ^ 0x5EED_0F_F00D)
        var byClass: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { byClass[l, default: []].append(i) }
        var keep: [Int] = [], holdout: [Int] = []
        for label in byClass.keys.sorted() {
            var members = byClass[label]!
            random.shuffle(&members)
            let n = members.count < 2 ? 0 : max(1, Int((Double(members.count) * fraction).rounded()))
            holdout += members.prefix(n)
            keep += members.dropFirst(n)
        }
        return (keep.sorted(), holdout.sorted())
    }
}
