/// A 1x1 convolution (a linear map `weight` [outputs, channels], `bias` [outputs]) after a
/// `BatchNorm` over the channels: the layer pair of the linear segmentation and depth heads.
public enum NormalizedConv {
    /// The conv with an affine map `scale * x + shift` per channel folded into it:
    /// `weight diag(scale)` and `bias + weight shift`.
    public static func folded(weight: [Float], bias: [Float], scale: [Float], shift: [Float]) -> (weight: [Float], bias: [Float]) {
        let d = scale.count
        var w = weight, b = bias
        for c in bias.indices {
            var extra: Float = 0
            for j in 0..<d {
                extra += weight[c * d + j] * shift[j]
                w[c * d + j] *= scale[j]
            }
            b[c] += extra
        }
        return (w, b)
    }

    /// Inference mode: the batch norm's running statistics folded into the conv.
    public static func folded(weight: [Float], bias: [Float], batchNorm: BatchNorm) -> (weight: [Float], bias: [Float]) {
        let (scale, shift) = batchNorm.inferenceScaleShift
        return folded(weight: weight, bias: bias, scale: scale, shift: shift)
    }

    /// The parameter gradients alone, with one GEMM, from d loss / d outputs `dz` [rows, outputs]
    /// and the normalised rows x̂ [rows, channels]: from M = dzᵀ x̂ and the column sums s of dz,
    /// dW = M diag(γ) + s βᵀ, db = s, dγ_j = Σ_k W[k, j] M[k, j] and dβ = Wᵀ s, which is what
    /// back-propagating dy = dz W through y = γ x̂ + β gives. M and s accumulate in Float (BLAS),
    /// the sums over outputs in Double.
    public static func parameterGradients(normalized: [Float], outputGradient: [Float], weight: [Float], batchNorm: BatchNorm)
        -> (weight: [Float], bias: [Float], gamma: [Float], beta: [Float]) {
        let d = batchNorm.channels, k = weight.count / d
        let (m, sums) = BLAS.linearGradients(input: normalized, rows: normalized.count / d, inputs: d, outputGradient: outputGradient, outputs: k)
        var dW = m, dGamma = [Float](repeating: 0, count: d), dBeta = dGamma
        for c in 0..<k {
            for j in 0..<d { dW[c * d + j] = batchNorm.weight[j] * m[c * d + j] + batchNorm.bias[j] * sums[c] }
        }
        for j in 0..<d {
            var (gamma, beta) = (0.0, 0.0)
            for c in 0..<k {
                gamma += Double(weight[c * d + j]) * Double(m[c * d + j])
                beta += Double(weight[c * d + j]) * Double(sums[c])
            }
            (dGamma[j], dBeta[j]) = (Float(gamma), Float(beta))
        }
        return (dW, sums, dGamma, dBeta)
    }
}
