import CSegKernels
import Support
import XCTest

/// dp_rope_rows, the attention kernel's copy of one head's q or k rows with RoPE applied: every
/// kernel bit for bit against the unfused arithmetic of `transformers`' composition
/// (x * cos + rotate_half(x) * sin, each product rounded, then the sum).
final class RopeRowsTests: XCTestCase {
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in random.uniform(-2, 2) }
    }

    /// Widths: the smallest, halves shorter than every vector, ViT-S's head (64), and halves
    /// that leave a partial vector after whole ones; rows before `prefix` are copied as they are.
    func testEveryKernelGivesTheUnfusedRotationBitForBit() {
        let kernels = [DP_SEG_KERNEL_SCALAR, DP_SEG_KERNEL_AVX2, DP_SEG_KERNEL_AVX512].filter { dp_seg_kernel_available($0) != 0 }
        for (width, count, prefix) in [(2, 3, 1), (6, 5, 0), (64, 9, 5), (34, 4, 2), (80, 3, 1)] {
            let stride = 3 * width + 1
            let source = values(count * stride, seed: UInt64(width))
            let cos = values((count - prefix) * width, seed: 7), sin = values((count - prefix) * width, seed: 8)
            var expected = [Float](repeating: 0, count: count * width)
            let half = width / 2
            for r in 0..<count {
                let x = Array(source[(r * stride)..<(r * stride + width)])
                for i in 0..<width {
                    if r < prefix {
                        expected[r * width + i] = x[i]
                        continue
                    }
                    let table = (r - prefix) * width + i
                    let turned = i < half ? -x[i + half] : x[i - half]
                    let straight = x[i] * cos[table], rotated = turned * sin[table]
                    expected[r * width + i] = straight + rotated
                }
            }
            for kernel in kernels {
                var out = [Float](repeating: .nan, count: count * width + 3)
                dp_rope_rows(kernel, source, stride, count, width, prefix, cos, sin, &out)
                XCTAssertEqual(out.prefix(count * width).map(\.bitPattern), expected.map(\.bitPattern), "kernel \(kernel.rawValue), width \(width)")
                XCTAssertTrue(out.suffix(3).allSatisfy(\.isNaN), "nothing written past the rows")
            }
        }
    }
}
