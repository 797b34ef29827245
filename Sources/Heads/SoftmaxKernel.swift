import CSegKernels

/// Which implementation computes softmax cross-entropy over many classes (32 or more) and the
/// segmenter's fused upsampling + cross-entropy (the C target CSegKernels). All compute the same
/// math; they differ in rounding (a few float ulps; see the tests for bounds).
public enum SoftmaxKernel: Sendable, CaseIterable {
    /// The widest kernel this CPU supports.
    case automatic
    /// Plain C with libm's `expf`: any CPU.
    case scalar
    /// 8 lanes with SLEEF's `Sleef_expf8_u10` (AVX2 and FMA).
    case avx2
    /// 16 lanes with SLEEF's `Sleef_expf16_u10` (AVX-512F).
    case avx512

    /// The C kernels' name for this choice.
    public var c: dp_seg_kernel {
        switch self {
        case .automatic: DP_SEG_KERNEL_AUTO
        case .scalar: DP_SEG_KERNEL_SCALAR
        case .avx2: DP_SEG_KERNEL_AVX2
        case .avx512: DP_SEG_KERNEL_AVX512
        }
    }

    /// Whether this kernel runs on this CPU; an unavailable one runs as `.automatic`.
    public var isAvailable: Bool { dp_seg_kernel_available(c) != 0 }

    /// The kernel that actually runs for this choice here.
    public var resolved: SoftmaxKernel {
        switch dp_seg_kernel_resolve(c) {
        case DP_SEG_KERNEL_AVX512: .avx512
        case DP_SEG_KERNEL_AVX2: .avx2
        default: .scalar
        }
    }
}
