import CSegKernels
import Dispatch

extension LinearSegmenter {
    /// Upsamples the logits ([batch, height, width, classes]) to the label size and scores them
    /// one output row at a time (`dp_seg_image_xent`, one image per task); writes
    /// `scale` * d(summed loss) / d logits into `logitGradient` (zeroed, same layout) and returns
    /// the summed (unscaled) loss. Labels must have been validated (each < classes or 255).
    static func upsampledCrossEntropy(logits: [Float], labels: [UInt8], batch: Int, classes k: Int,
                                      upsampler: BilinearUpsampler, scale: Float, kernel: SoftmaxKernel,
                                      logitGradient: inout [Float]) -> Double {
        let (inH, inW) = (upsampler.inputHeight, upsampler.inputWidth)
        let (outH, outW) = (upsampler.outputHeight, upsampler.outputWidth)
        let scratchCount = dp_seg_scratch_count(inW, k)
        var losses = [Double](repeating: 0, count: batch)
        upsampler.rows.withTaps { rows in
            upsampler.columns.withTaps { columns in
                logits.withUnsafeBufferPointer { z in
                    labels.withUnsafeBufferPointer { y in
                        logitGradient.withUnsafeMutableBufferPointer { dz in
                            losses.withUnsafeMutableBufferPointer { loss in
                                let p = ImagePointers(z: z.baseAddress!, y: y.baseAddress!, dz: dz.baseAddress!,
                                                      loss: loss.baseAddress!, rows: rows.c, columns: columns.c)
                                // Images are independent (each writes its own slice of dz): one per core.
                                DispatchQueue.concurrentPerform(iterations: batch) { b in
                                    var scratch = [Float](repeating: 0, count: scratchCount)
                                    p.loss[b] = scratch.withUnsafeMutableBufferPointer { s in
                                        dp_seg_image_xent(kernel.c, p.z + b * inH * inW * k, inH, inW, k,
                                                          p.y + b * outH * outW, outH, outW, ignoreIndex,
                                                          p.rows, p.columns, scale, p.dz + b * inH * inW * k, s.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return losses.reduce(0, +)
    }

    /// The buffers the per-image workers share; each worker writes only its own image's part.
    private struct ImagePointers: @unchecked Sendable {
        let z: UnsafePointer<Float>
        let y: UnsafePointer<UInt8>
        let dz: UnsafeMutablePointer<Float>
        let loss: UnsafeMutablePointer<Double>
        let rows: dp_axis_taps
        let columns: dp_axis_taps
    }
}

extension BilinearUpsampler {
    /// The row and column taps for the C kernels, valid while `body` runs.
    public func withTaps<R>(_ body: (_ rows: dp_axis_taps, _ columns: dp_axis_taps) throws -> R) rethrows -> R {
        try rows.withTaps { r in try columns.withTaps { c in try body(r.c, c.c) } }
    }
}

extension BilinearUpsampler.Axis.Taps {
    /// The taps for the C kernels (valid while the `withTaps` closure runs).
    var c: dp_axis_taps {
        dp_axis_taps(lower: lower.baseAddress, upper: upper.baseAddress,
                     lowerWeight: lowerWeight.baseAddress, upperWeight: upperWeight.baseAddress)
    }
}
