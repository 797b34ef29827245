import CSegKernels
import Dispatch
import Heads

/// Meta's `SigLoss` (dinov3/eval/depth/loss.py, after AdaBins): on the pixels whose target is
/// positive (0 is "no depth"), g = log(pred + eps) - log(target + eps) and the loss is
/// sqrt(var(g) + 0.15 mean(g)²), var unbiased; for the first `warmUpSteps` calls the variance is
/// left out (Meta's `warm_up_counter`, which this counts and the head's training state keeps).
/// The prediction is the patch-grid depth upsampled bilinearly (align_corners false) to the
/// target size, one output row at a time (`dp_depth_log_ratio`), never held whole.
public struct SigLoss: Sendable, Equatable {
    public var eps: Float = 0.001
    public var warmUpSteps = 100
    /// Calls counted so far, up to `warmUpSteps` (Meta's `warm_up_counter`).
    public var warmUpCounter = 0

    public init() {}

    /// The loss of `depth` [batch, height, width] upsampled to `targets` [batch, targetHeight,
    /// targetWidth] and d loss / d depth (same layout as `depth`); counts a warm-up step. With
    /// no valid pixel the loss is 0 with no gradient; with one, the variance is 0 (PyTorch: NaN).
    public mutating func lossAndGradient(depth: [Float], batch: Int, height: Int, width: Int, targets: [Float],
                                         targetHeight: Int, targetWidth: Int, kernel: SoftmaxKernel = .automatic) throws
        -> (loss: Float, depthGradient: [Float], validPixels: Int) {
        guard depth.count == batch * height * width, targetHeight > 0, targetWidth > 0,
              targets.count == batch * targetHeight * targetWidth else {
            throw HeadError.invalidArgument(what: "depth targets", detail: "\(targets.count) values are not [\(batch), \(targetHeight), \(targetWidth)]")
        }
        let (variance, eps) = (warmUpCounter >= warmUpSteps, self.eps)
        if !variance { warmUpCounter += 1 }
        let upsampler = try BilinearUpsampler(inputHeight: height, inputWidth: width, outputHeight: targetHeight, outputWidth: targetWidth)
        // Pass 1 writes every value of g.
        var g = [Float](unsafeUninitializedCapacity: targets.count) { $1 = targets.count }
        var gradient = [Float](repeating: 0, count: depth.count)
        var stats = [Double](repeating: 0, count: 2 * batch), squares = [Double](repeating: 0, count: batch)
        let scratch = dp_depth_scratch_count(height, targetWidth)
        let plane = (input: height * width, output: targetHeight * targetWidth)
        var loss = 0.0, count = 0.0
        upsampler.withTaps { rows, columns in
            depth.withUnsafeBufferPointer { d in
                targets.withUnsafeBufferPointer { t in
                    g.withUnsafeMutableBufferPointer { gp in
                        gradient.withUnsafeMutableBufferPointer { dd in
                            stats.withUnsafeMutableBufferPointer { s in
                                squares.withUnsafeMutableBufferPointer { q in
                                    let p = LossPointers(d: d.baseAddress!, t: t.baseAddress!, g: gp.baseAddress!, dd: dd.baseAddress!,
                                                         stats: s.baseAddress!, squares: q.baseAddress!, rows: rows, columns: columns)
                                    DispatchQueue.concurrentPerform(iterations: batch) { b in
                                        var buffer = [Float](repeating: 0, count: scratch)
                                        // Offsets first: one call of pointer arithmetic takes the type checker too long.
                                        let (input, output, pair): (Int, Int, Int) = (b * plane.input, b * plane.output, 2 * b)
                                        dp_depth_log_ratio(kernel.c, p.d + input, height, width, p.t + output, targetHeight,
                                                           targetWidth, p.rows, p.columns, eps, p.g + output, p.stats + pair, &buffer)
                                    }
                                    count = (0..<batch).reduce(0) { $0 + s[2 * $1] }
                                    guard count > 0 else { return }
                                    let mean = (0..<batch).reduce(0) { $0 + s[2 * $1 + 1] } / count
                                    // d loss / d g times the loss: 0.15 mean / N + (g - mean) / (N - 1).
                                    let (offset, slope) = (Float(0.15 * mean / count), variance && count > 1 ? Float(1 / (count - 1)) : 0)
                                    DispatchQueue.concurrentPerform(iterations: batch) { b in
                                        var buffer = [Float](repeating: 0, count: scratch)
                                        let (input, output): (Int, Int) = (b * plane.input, b * plane.output)
                                        dp_depth_log_ratio_backward(kernel.c, p.d + input, height, width, p.t + output,
                                                                    p.g + output, targetHeight, targetWidth, p.rows, p.columns, eps,
                                                                    Float(mean), slope, offset, p.dd + input, p.squares + b, &buffer)
                                    }
                                    let spread = count > 1 && variance ? (0..<batch).reduce(0) { $0 + q[$1] } / (count - 1) : 0
                                    loss = (0.15 * mean * mean + spread).squareRoot()
                                }
                            }
                        }
                    }
                }
            }
        }
        // The kernels left out the loss's 1 / loss factor; a zero loss has a zero gradient (|.| at 0).
        let factor: Float = loss > 0 ? Float(1 / loss) : 0
        for i in gradient.indices { gradient[i] *= factor }
        return (Float(loss), gradient, Int(count))
    }
}

/// The buffers the per-image workers share; each writes only its own image's part.
private struct LossPointers: @unchecked Sendable {
    let d: UnsafePointer<Float>, t: UnsafePointer<Float>
    let g: UnsafeMutablePointer<Float>, dd: UnsafeMutablePointer<Float>
    let stats: UnsafeMutablePointer<Double>, squares: UnsafeMutablePointer<Double>
    let rows: dp_axis_taps, columns: dp_axis_taps
}
