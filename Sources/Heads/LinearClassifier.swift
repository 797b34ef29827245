import Foundation
import Support

/// Gradients of a linear head's mean loss.
public struct LinearGradients: Sendable {
    /// The mean cross-entropy over the batch.
    public var loss: Float
    /// dLoss/dWeight, [classes, dim] row-major.
    public var weight: [Float]
    /// dLoss/dBias, [classes].
    public var bias: [Float]
}

/// A linear classification head on frozen features (docs/protocols.md, section 2):
/// `logits = features · weightᵀ + bias`, PyTorch `nn.Linear(dim, classes)` layout.
///
/// Training a custom head:
/// ```swift
/// var head = try LinearClassifier(dim: 768, classes: 10, seed: 0)
/// var optimizer = SGD(momentum: 0.9)
/// let schedule = LearningRateSchedule(totalSteps: steps)
/// for (t, batch) in batches.enumerated() {
///     let loss = try head.trainStep(features: batch.x, labels: batch.y, optimizer: &optimizer,
///                                   learningRate: schedule.learningRate(base: 1e-3, step: t))
/// }
/// ```
public struct LinearClassifier: Sendable {
    /// K, the number of classes.
    public let classes: Int
    /// D, the feature width.
    public let dim: Int
    /// [classes, dim] row-major (PyTorch's [out, in]).
    public var weight: [Float]
    /// [classes].
    public var bias: [Float]
    /// Classes, feature recipe and backbone the head belongs to.
    public var metadata: HeadMetadata

    /// A new head: weight ~ N(0, 0.01²) (std 0.01, drawn row-major from `SeededRandom(seed:)`),
    /// bias 0, as Meta's linear probe. Throws when `dim` or `classes` is not positive or the
    /// metadata's class names or palette do not have `classes` entries.
    public init(dim: Int, classes: Int, seed: UInt64 = 0, metadata: HeadMetadata = HeadMetadata(kind: .classifier)) throws {
        try require(dim > 0, "feature width", "must be positive, got \(dim)")
        try require(classes > 0, "class count", "must be positive, got \(classes)")
        var random = SeededRandom(seed: seed)
        try self.init(weight: random.normals(count: checkedProduct(classes, dim, "head shape"), std: 0.01),
                      bias: [Float](repeating: 0, count: classes), dim: dim, classes: classes, metadata: metadata)
    }

    /// A head with the given parameters (`weight` [classes, dim], `bias` [classes]).
    public init(weight: [Float], bias: [Float], dim: Int, classes: Int, metadata: HeadMetadata = HeadMetadata(kind: .classifier)) throws {
        try require(dim > 0 && classes > 0, "head shape", "dim and classes must be positive, got \(dim) and \(classes)")
        try require(weight.count == checkedProduct(classes, dim, "head shape"), "weight", "\(weight.count) values, expected \(classes) x \(dim)")
        try require(bias.count == classes, "bias", "\(bias.count) values, expected \(classes)")
        try metadata.validate(classes: classes, path: "metadata")
        (self.classes, self.dim, self.weight, self.bias, self.metadata) = (classes, dim, weight, bias, metadata)
    }

    /// Throws when `weight` or `bias` was given the wrong size.
    func validateParameters() throws {
        try require(weight.count == classes * dim && bias.count == classes, "head parameters",
                    "weight has \(weight.count) values and bias \(bias.count), expected \(classes) x \(dim) and \(classes)")
    }

    func checkFeatures(_ features: [Float], count: Int) throws {
        try validateParameters()
        try require(count >= 0 && features.count == count * dim, "features",
                    "\(features.count) values are not \(count) rows of width \(dim) (is this the head's feature recipe?)")
    }

    /// Logits [count, classes] of `features` [count, dim].
    public func logits(features: [Float], count: Int) throws -> [Float] {
        try checkFeatures(features, count: count)
        guard count > 0 else { return [] }
        return BLAS.linearOutput(input: features, rows: count, inputs: dim, weight: weight, bias: bias, outputs: classes)
    }

    /// Softmax probabilities [count, classes].
    public func probabilities(features: [Float], count: Int) throws -> [Float] {
        var p = try logits(features: features, count: count)
        Softmax.rows(&p, classes: classes)
        return p
    }

    /// The most likely class of each row (the first one on ties).
    public func predict(features: [Float], count: Int) throws -> [Int] {
        Softmax.argmax(try logits(features: features, count: count), classes: classes)
    }

    /// Mean cross-entropy of `features` [labels.count, dim] against `labels` and its gradients.
    public func lossAndGradients(features: [Float], labels: [Int]) throws -> LinearGradients {
        let n = labels.count
        try checkFeatures(features, count: n)
        guard n > 0 else {
            return LinearGradients(loss: 0, weight: [Float](repeating: 0, count: weight.count), bias: [Float](repeating: 0, count: classes))
        }
        let (loss, dLogits) = try SoftmaxCrossEntropy().lossAndGradient(logits: try logits(features: features, count: n),
                                                                         labels: labels, classes: classes)
        let (dW, dB) = BLAS.linearGradients(input: features, rows: n, inputs: dim, outputGradient: dLogits, outputs: classes)
        return LinearGradients(loss: loss, weight: dW, bias: dB)
    }

    /// One optimisation step on a batch: gradients, then `optimizer` on "weight" and "bias".
    /// Returns the batch loss (before the step).
    @discardableResult
    public mutating func trainStep<O: Optimizer>(features: [Float], labels: [Int], optimizer: inout O, learningRate: Float) throws -> Float {
        let g = try lossAndGradients(features: features, labels: labels)
        try optimizer.step("weight", parameters: &weight, gradients: g.weight, learningRate: learningRate)
        try optimizer.step("bias", parameters: &bias, gradients: g.bias, learningRate: learningRate)
        return g.loss
    }

    /// Top-1 accuracy (0...1) on labelled features.
    public func accuracy(features: [Float], labels: [Int]) throws -> Float {
        let predictions = try predict(features: features, count: labels.count)
        guard !labels.isEmpty else { return 0 }
        return Float(zip(predictions, labels).filter { $0 == $1 }.count) / Float(labels.count)
    }
}

/// Row-wise softmax and argmax on [n, classes] matrices.
public enum Softmax {
    /// Replaces each row by its softmax (stable: shifted by the row maximum).
    public static func rows(_ x: inout [Float], classes: Int) {
        guard classes > 0 else { return }
        x.withUnsafeMutableBufferPointer { p in
            for start in stride(from: 0, to: p.count - classes + 1, by: classes) {
                let row = p.baseAddress! + start
                var maximum = row[0]
                for c in 1..<classes where row[c] > maximum { maximum = row[c] }
                var sum: Float = 0
                for c in 0..<classes { row[c] = expf(row[c] - maximum); sum += row[c] }
                for c in 0..<classes { row[c] /= sum }
            }
        }
    }

    /// The index of each row's largest value (the first on ties).
    public static func argmax(_ x: [Float], classes: Int) -> [Int] {
        guard classes > 0 else { return [] }
        return x.withUnsafeBufferPointer { p in
            (0..<(p.count / classes)).map { i in
                let row = p.baseAddress! + i * classes
                var best = 0
                for c in 1..<classes where row[c] > row[best] { best = c }
                return best
            }
        }
    }
}
