import CSegKernels
import Foundation

/// Softmax cross-entropy over the rows of a [n, classes] logits matrix, as PyTorch's
/// `F.cross_entropy(logits, labels, ignore_index=...)` with mean reduction: the mean is over the
/// rows whose label is not the ignore index; when every row is ignored, loss and gradient are 0.
public struct SoftmaxCrossEntropy: Sendable {
    /// Rows with this label contribute nothing (255 for segmentation masks); nil: none ignored.
    public var ignoreIndex: Int?
    /// The kernel for rows of 32 classes or more (fewer use plain Swift loops).
    public var kernel: SoftmaxKernel

    public init(ignoreIndex: Int? = nil, kernel: SoftmaxKernel = .automatic) {
        self.ignoreIndex = ignoreIndex
        self.kernel = kernel
    }

    /// The mean loss and its gradient with respect to `logits` ([n, classes], same layout).
    /// Throws when sizes disagree or a label is neither a class nor the ignore index.
    public func lossAndGradient<L: BinaryInteger>(logits: [Float], labels: [L], classes: Int) throws -> (loss: Float, gradient: [Float]) {
        let n = labels.count
        try require(classes > 0, "class count", "must be positive, got \(classes)")
        try require(logits.count == n * classes, "logits", "\(logits.count) values do not make \(n) rows of \(classes) classes")
        let valid = try countValid(labels, classes: classes)
        var gradient = [Float](repeating: 0, count: logits.count)
        guard valid > 0 else { return (0, gradient) }
        let scale = 1 / Float(valid)
        var total = 0.0
        logits.withUnsafeBufferPointer { x in
            gradient.withUnsafeMutableBufferPointer { g in
                for i in 0..<n {
                    let label = Int(labels[i])
                    if label == ignoreIndex { continue }
                    total += Self.row(x.baseAddress! + i * classes, classes: classes, label: label,
                                      gradientScale: scale, gradient: g.baseAddress! + i * classes, kernel: kernel)
                }
            }
        }
        return (Float(total / Double(valid)), gradient)
    }

    /// The mean loss only.
    public func loss<L: BinaryInteger>(logits: [Float], labels: [L], classes: Int) throws -> Float {
        try lossAndGradient(logits: logits, labels: labels, classes: classes).loss
    }

    /// Number of labels that are not ignored; throws on a label outside 0..<classes.
    func countValid<L: BinaryInteger>(_ labels: [L], classes: Int) throws -> Int {
        var valid = 0
        for (i, raw) in labels.enumerated() {
            let label = Int(raw)
            if label == ignoreIndex { continue }
            guard label >= 0, label < classes else {
                throw HeadError.labelOutOfRange(label: label, classes: classes, position: i)
            }
            valid += 1
        }
        return valid
    }

    /// One row: returns -log softmax(x)[label] (computed stably around the row maximum) and writes
    /// `gradientScale * (softmax(x) - onehot(label))` into `gradient`. `label` must be valid.
    @inline(__always)
    static func row(_ x: UnsafePointer<Float>, classes: Int, label: Int, gradientScale: Float,
                    gradient: UnsafeMutablePointer<Float>, kernel: SoftmaxKernel = .automatic) -> Double {
        guard classes < 32 else {
            // Many classes (segmentation): the vectorised C kernel.
            return dp_softmax_xent_row(kernel.c, x, classes, label, gradientScale, gradient)
        }
        // Few classes: the plain loops (measured faster for the 10-class probe grid).
        var maximum = x[0]
        for c in 1..<classes { maximum = max(maximum, x[c]) }
        var sum: Float = 0
        for c in 0..<classes {
            let e = expf(x[c] - maximum)
            gradient[c] = e
            sum += e
        }
        let factor = gradientScale / sum
        for c in 0..<classes { gradient[c] *= factor }
        gradient[label] -= gradientScale
        return Double(logf(sum)) + Double(maximum) - Double(x[label])
    }
}
