@testable import Backbone
import CPackedGEMM
import CSegKernels
import CTorch
import Foundation
import SafeTensors
import XCTest

/// dp_layer_norm (CPackedGEMM) against PyTorch 2.15's float32 LayerNorm bit for bit, and
/// `Tensor.layerNorm`, which takes it on float32 CPU tensors, against dp_layer_norm.
final class LayerNormTests: XCTestCase {
    /// Rows of nonzero mean.
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        seededValues(count, seed: seed, scale: 3).map { $0 + 0.5 }
    }

    private func sameBits(_ a: [Float], _ b: [Float]) -> Int {
        zip(a, b).filter { !($0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)) }.count
    }

    /// Every kernel this CPU runs, and the portable path, on rows of 1 to 2,053 floats (leftovers
    /// after whole vectors, one and several chunks, cascades of two levels), with constant, zero,
    /// infinite, NaN, 1e30-scale and random-bit rows; with and without gamma and beta.
    func testLayerNormMatchesPyTorchBitForBit() throws {
        let fixture = try SafeTensorsFile(path: Fixtures.root.appendingPathComponent("layer_norm.safetensors").path)
        let lengths = [1, 7, 8, 20, 40, 64, 100, 384, 390, 768, 1024, 2053]
        let kernels = [DP_SEG_KERNEL_AVX512, DP_SEG_KERNEL_AVX2].filter { dp_seg_kernel_available($0) != 0 } + [DP_SEG_KERNEL_SCALAR]
        var checked = 0
        for n in lengths {
            let x = try fixture.floats("x_\(n)"), gamma = try fixture.floats("gamma_\(n)"), beta = try fixture.floats("beta_\(n)")
            let affine = try fixture.floats("affine_\(n)"), plain = try fixture.floats("plain_\(n)")
            let rows = x.count / n
            for kernel in kernels {
                var y = [Float](repeating: .nan, count: x.count)
                dp_layer_norm(kernel, x, rows, n, gamma, beta, 1e-6, &y)
                XCTAssertEqual(sameBits(y, affine), 0, "n \(n), kernel \(kernel.rawValue), with gamma and beta")
                dp_layer_norm(kernel, x, rows, n, nil, nil, 1e-5, &y)
                XCTAssertEqual(sameBits(y, plain), 0, "n \(n), kernel \(kernel.rawValue), without")
                checked += 2 * x.count
            }
        }
        XCTAssertGreaterThan(checked, 80_000)
    }

    /// In place (y = x) gives the same bits as into another buffer.
    func testLayerNormInPlace() {
        let n = 390, rows = 5
        let x = values(n * rows, seed: 3), gamma = values(n, seed: 4), beta = values(n, seed: 5)
        var apart = [Float](repeating: .nan, count: x.count)
        dp_layer_norm(DP_SEG_KERNEL_AUTO, x, rows, n, gamma, beta, 1e-5, &apart)
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { dp_layer_norm(DP_SEG_KERNEL_AUTO, $0.baseAddress, rows, n, gamma, beta, 1e-5, $0.baseAddress) }
        XCTAssertEqual(inPlace.map(\.bitPattern), apart.map(\.bitPattern))
    }

    /// `Tensor.layerNorm` on float32 CPU tensors is dp_layer_norm, whatever the layout: rows split
    /// among the threads, a permuted (non-contiguous) input as ConvNeXt passes it, eps rounded to
    /// float. Other dtypes keep libtorch's kernel and stay close.
    func testTensorLayerNormIsTheExactKernel() throws {
        let n = 384, rows = 603
        let x = values(n * rows, seed: 7), gamma = values(n, seed: 8), beta = values(n, seed: 9)
        var expected = [Float](repeating: .nan, count: x.count)
        dp_layer_norm(DP_SEG_KERNEL_AUTO, x, rows, n, gamma, beta, Float(1e-6), &expected)
        let w = try Tensor(gamma, shape: [n]), b = try Tensor(beta, shape: [n])
        let viaTensor = try Tensor(x, shape: [3, 201, n]).layerNorm(w, b, eps: 1e-6).floats()
        XCTAssertEqual(viaTensor.map(\.bitPattern), expected.map(\.bitPattern))

        // [3, 201, n] stored as [3, n, 201], permuted into place: not contiguous.
        var transposed = [Float](repeating: 0, count: x.count)
        for image in 0..<3 { for t in 0..<201 { for c in 0..<n { transposed[(image * n + c) * 201 + t] = x[(image * 201 + t) * n + c] } } }
        let permuted = try Tensor(transposed, shape: [3, n, 201]).permute([0, 2, 1])
        XCTAssertEqual(try permuted.layerNorm(w, b, eps: 1e-6).floats().map(\.bitPattern), expected.map(\.bitPattern))

        let half = try Tensor(x, shape: [rows, n]).to(.cpu, dtype: CT_BFLOAT16)
        let viaLibtorch = try half.layerNorm(w.to(.cpu, dtype: CT_BFLOAT16), b.to(.cpu, dtype: CT_BFLOAT16), eps: 1e-6).to(.cpu).floats()
        let largest = zip(viaLibtorch, expected).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(largest, 0.2, "bfloat16 through libtorch")
    }
}
