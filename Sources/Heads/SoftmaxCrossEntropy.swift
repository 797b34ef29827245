import Foundation

/// Softmax cross-entropy over the rows of a [n, classes] logits matrix, as PyTorch's
/// `F.cross_entropy(logits, labels, ignore_index=...)` with mean reduction: the mean is over the
/// rows whose label is not the ignore index; when every row is ignored, loss and gradient are 0.
public struct SoftmaxCrossEntropy: Sendable {
    /// Rows with this label contribute nothing (255 for segmentation masks); nil: none ignored.
    public var ignoreIndex: Int?

    public init(ignoreIndex: Int? = nil) {
        self.ignoreIndex = ignoreIndex
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
                                      gradientScale: scale, gradient: g.baseAddress! + i * classes)
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
                    gradient: UnsafeMutablePointer<Float>) -> Double {
        if classes < 32 {
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
        // Many classes (segmentation): four independent accumulators, so the max and the sum are
        // not one long dependency chain.
        var m0 = x[0], m1 = x[0], m2 = x[0], m3 = x[0]
        var c = 0
        while c + 4 <= classes {
            m0 = x[c] > m0 ? x[c] : m0
            m1 = x[c + 1] > m1 ? x[c + 1] : m1
            m2 = x[c + 2] > m2 ? x[c + 2] : m2
            m3 = x[c + 3] > m3 ? x[c + 3] : m3
            c += 4
        }
        var maximum = max(max(m0, m1), max(m2, m3))
        while c < classes { maximum = max(maximum, x[c]); c += 1 }
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        c = 0
        while c + 4 <= classes {
            let e0 = expf(x[c] - maximum), e1 = expf(x[c + 1] - maximum)
            let e2 = expf(x[c + 2] - maximum), e3 = expf(x[c + 3] - maximum)
            gradient[c] = e0; gradient[c + 1] = e1; gradient[c + 2] = e2; gradient[c + 3] = e3
            s0 += e0; s1 += e1; s2 += e2; s3 += e3
            c += 4
        }
        while c < classes {
            let e = expf(x[c] - maximum)
            gradient[c] = e
            s0 += e
            c += 1
        }
        let sum = (s0 + s1) + (s2 + s3)
        let factor = gradientScale / sum
        for c in 0..<classes { gradient[c] *= factor }
        gradient[label] -= gradientScale
        return Double(logf(sum)) + Double(maximum) - Double(x[label])
    }

    /// One row's loss only (no gradient).
    @inline(__always)
    static func rowLoss(_ x: UnsafePointer<Float>, classes: Int, label: Int) -> Double {
        var maximum = x[0]
        for c in 1..<classes where x[c] > maximum { maximum = x[c] }
        var sum: Float = 0
        for c in 0..<classes { sum += expf(x[c] - maximum) }
        return Double(logf(sum)) + Double(maximum) - Double(x[label])
    }
}
