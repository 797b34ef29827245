/// The backward pass of a training step from d loss / d logits [rows, classes] (rows = B*h*w).
extension LinearSegmenter {
    /// Gradients of the conv, the batch norm and, optionally, the features.
    typealias Backward = (convWeight: [Float], convBias: [Float], bnWeight: [Float], bnBias: [Float], features: [Float]?)

    /// Back through the conv (dW = dzᵀ y, db, and dy = dz W into `normed`, the batch-norm output
    /// y), the batch norm and the dropout mask: every gradient, the features' included.
    func fullBackward(logitGradient: [Float], normed: inout [Float], cache: BatchNormCache, channelMask: [Float],
                      batch: Int) throws -> Backward {
        let (n, k, d) = (cache.rows, classes, dim)
        var dW = [Float](repeating: 0, count: k * d), dB = [Float](repeating: 0, count: k)
        logitGradient.withUnsafeBufferPointer { dz in
            normed.withUnsafeMutableBufferPointer { y in
                dW.withUnsafeMutableBufferPointer { dw in
                    dB.withUnsafeMutableBufferPointer { db in
                        BLAS.linearBackward(y.baseAddress!, rows: n, inputs: d, outputGradient: dz.baseAddress!, outputs: k,
                                            weightGradient: dw.baseAddress!, biasGradient: db.baseAddress!)
                    }
                }
                convWeight.withUnsafeBufferPointer { w in
                    BLAS.gemm(dz.baseAddress!, w.baseAddress!, into: y.baseAddress!, m: n, n: d, k: k)
                }
            }
        }
        let (dDropped, dGamma, dBeta) = try batchNorm.backward(normed, cache: cache, input: true)
        guard var dx = dDropped else { return (dW, dB, dGamma, dBeta, nil) }
        let pixels = n / max(batch, 1)
        for b in 0..<batch {
            for p in 0..<pixels {
                let offset = (b * pixels + p) * d
                for c in 0..<d { dx[offset + c] *= channelMask[b * d + c] }
            }
        }
        return (dW, dB, dGamma, dBeta, dx)
    }

    /// The parameter gradients alone, with one GEMM (`NormalizedConv.parameterGradients`).
    func parameterBackward(logitGradient: [Float], normalized: [Float]) -> Backward {
        let g = NormalizedConv.parameterGradients(normalized: normalized, outputGradient: logitGradient, weight: convWeight, batchNorm: batchNorm)
        return (g.weight, g.bias, g.gamma, g.beta, nil)
    }
}
