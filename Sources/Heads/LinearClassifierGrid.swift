import Foundation
import Support

/// Losses and gradients of every head of a grid on one batch.
public struct GridGradients: Sendable {
    /// Mean cross-entropy of each head, [heads].
    public var losses: [Float]
    /// [heads * classes, dim]: head g's gradient is rows g*classes..<(g+1)*classes.
    public var weight: [Float]
    /// [heads * classes].
    public var bias: [Float]
}

/// G linear classifiers of the same shape trained together on the same batches, one learning
/// rate each: Meta's linear-probe sweep (docs/protocols.md, section 2) at the cost of one wider head.
///
/// The weights of all heads form one [G*K, D] matrix, so one sgemm gives every head's logits
/// ([n, G*K], head g in columns g*K..<(g+1)*K) and one sgemm every head's weight gradient.
/// All heads start from the same initialisation (the one `LinearClassifier(dim:classes:seed:)`
/// draws), so they differ only by their learning rate, and head g trained here equals a single
/// `LinearClassifier` trained alone with learning rate g on the same batches. (Meta draws each
/// head separately; with std 0.01 the difference does not matter.)
public struct LinearClassifierGrid: Sendable {
    /// G, the number of heads.
    public let heads: Int
    /// K.
    public let classes: Int
    /// D.
    public let dim: Int
    /// [heads * classes, dim] row-major.
    public var weight: [Float]
    /// [heads * classes].
    public var bias: [Float]
    /// The base learning rate of each head (before any schedule).
    public var learningRates: [Float]
    /// Shared by every head.
    public var metadata: HeadMetadata

    /// Meta's 13 learning rates for batch 256.
    public static let metaLearningRates: [Float] = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1]

    /// Meta's rates scaled by `batchSize / 256`.
    public static func metaLearningRates(batchSize: Int) -> [Float] {
        metaLearningRates.map { $0 * Float(batchSize) / 256 }
    }

    /// One head per learning rate, all initialised as `LinearClassifier(dim:classes:seed:)`.
    public init(dim: Int, classes: Int, learningRates: [Float], seed: UInt64 = 0,
                metadata: HeadMetadata = HeadMetadata(kind: .classifier)) throws {
        try require(!learningRates.isEmpty, "learning rates", "give at least one")
        let first = try LinearClassifier(dim: dim, classes: classes, seed: seed, metadata: metadata)
        heads = learningRates.count
        self.classes = classes
        self.dim = dim
        weight = Array([[Float]](repeating: first.weight, count: heads).joined())
        bias = [Float](repeating: 0, count: heads * classes)
        self.learningRates = learningRates
        self.metadata = metadata
    }

    /// Throws when `weight`, `bias` or `learningRates` was given the wrong size.
    func validateParameters() throws {
        try require(weight.count == heads * classes * dim && bias.count == heads * classes && learningRates.count == heads,
                    "grid parameters", "weight, bias and learning rates must have \(heads) heads of \(classes) x \(dim)")
    }

    /// Logits of every head, [count, heads * classes].
    public func logits(features: [Float], count: Int) throws -> [Float] {
        try validateParameters()
        try require(count >= 0 && features.count == count * dim, "features",
                    "\(features.count) values are not \(count) rows of width \(dim)")
        guard count > 0 else { return [] }
        return BLAS.linearOutput(input: features, rows: count, inputs: dim, weight: weight, bias: bias, outputs: heads * classes)
    }

    /// Each head's mean cross-entropy on the batch and the gradients of all heads.
    public func lossesAndGradients(features: [Float], labels: [Int]) throws -> GridGradients {
        let n = labels.count
        let width = heads * classes
        let z = try logits(features: features, count: n)
        var losses = [Float](repeating: 0, count: heads)
        var dW = [Float](repeating: 0, count: weight.count)
        var dB = [Float](repeating: 0, count: width)
        guard n > 0 else { return GridGradients(losses: losses, weight: dW, bias: dB) }
        _ = try SoftmaxCrossEntropy().countValid(labels, classes: classes)
        var dZ = [Float](repeating: 0, count: z.count)
        let scale = 1 / Float(n)
        z.withUnsafeBufferPointer { zp in
            dZ.withUnsafeMutableBufferPointer { gp in
                var totals = [Double](repeating: 0, count: heads)
                for i in 0..<n {
                    for g in 0..<heads {
                        let offset = i * width + g * classes
                        totals[g] += SoftmaxCrossEntropy.row(zp.baseAddress! + offset, classes: classes, label: labels[i],
                                                             gradientScale: scale, gradient: gp.baseAddress! + offset)
                    }
                }
                for g in 0..<heads { losses[g] = Float(totals[g] / Double(n)) }
            }
        }
        (dW, dB) = BLAS.linearGradients(input: features, rows: n, inputs: dim, outputGradient: dZ, outputs: width)
        return GridGradients(losses: losses, weight: dW, bias: dB)
    }

    /// One step of every head: one optimizer call per tensor, head g at
    /// `learningRates[g] * learningRateFactor` (the schedule's factor). Returns each head's loss.
    @discardableResult
    public mutating func trainStep<O: Optimizer>(features: [Float], labels: [Int], optimizer: inout O,
                                                 learningRateFactor: Float = 1) throws -> [Float] {
        var unused = SeededRandom(seed: 0)  // the grid draws nothing
        return try trainStep(LabelledFeatures(values: features, labels: labels, width: dim), optimizer: &optimizer,
                             learningRates: learningRates.map { $0 * learningRateFactor }, random: &unused)
    }

    /// Each head's top-1 accuracy (0...1) on labelled features.
    public func accuracies(features: [Float], labels: [Int]) throws -> [Float] {
        let z = try logits(features: features, count: labels.count)
        guard !labels.isEmpty else { return [Float](repeating: 0, count: heads) }
        let width = heads * classes
        var correct = [Int](repeating: 0, count: heads)
        z.withUnsafeBufferPointer { zp in
            for (i, label) in labels.enumerated() {
                for g in 0..<heads {
                    let row = zp.baseAddress! + i * width + g * classes
                    var best = 0
                    for c in 1..<classes where row[c] > row[best] { best = c }
                    if best == label { correct[g] += 1 }
                }
            }
        }
        return correct.map { Float($0) / Float(labels.count) }
    }

    /// Head `index` as a standalone classifier (for saving or inference).
    public func head(at index: Int) throws -> LinearClassifier {
        try validateParameters()
        try require(index >= 0 && index < heads, "head index", "\(index) is not in 0..<\(heads)")
        let size = classes * dim
        var meta = metadata
        meta.extra["learning_rate"] = String(learningRates[index])
        return try LinearClassifier(weight: Array(weight[(index * size)..<((index + 1) * size)]),
                                    bias: Array(bias[(index * classes)..<((index + 1) * classes)]),
                                    dim: dim, classes: classes, metadata: meta)
    }
}
