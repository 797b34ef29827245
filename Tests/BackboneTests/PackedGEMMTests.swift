@testable import Backbone
import CPackedGEMM
import CTorch
import CSegKernels
import Foundation
import SafeTensors
import XCTest

/// The packed GEMM behind the ViT's linear layers (CPackedGEMM): each kernel bit for bit against
/// its stated arithmetic (bias, then one fused multiply-add per k in increasing k, in Float), on
/// shapes that cross every blocking edge; and `PreparedLinear` against libtorch's `linear`.
final class PackedGEMMTests: XCTestCase {
    /// The kernels this CPU runs (AVX-512 and AVX2 where available).
    private var kernels: [dp_seg_kernel] {
        [DP_SEG_KERNEL_AVX512, DP_SEG_KERNEL_AVX2].filter { dp_seg_kernel_available($0) != 0 && dp_gemm_panel_width($0) > 0 }
    }

    /// c = a [m, k] . w [n, k]^T + bias through `kernel`, its panels in `splits` separate calls.
    private func packedProduct(_ kernel: dp_seg_kernel, a: [Float], w: [Float], bias: [Float]?, m: Int, k: Int, n: Int, splits: Int = 1) -> [Float] {
        let nr = dp_gemm_panel_width(kernel)
        let count = dp_gemm_packed_count(n, k, nr)
        var packed = [Float](repeating: .nan, count: count)
        dp_gemm_pack(w, n, k, k, nr, &packed)
        var c = [Float](repeating: .nan, count: m * n)
        var scratch = [Float](repeating: .nan, count: dp_gemm_scratch_count())
        let panels = (n + nr - 1) / nr
        for s in 0..<splits {
            let begin = panels * s / splits, end = panels * (s + 1) / splits
            if let bias {
                dp_gemm_packed(kernel, a, m, k, k, packed, n, bias, &c, n, begin, end, &scratch, nil)
            } else {
                dp_gemm_packed(kernel, a, m, k, k, packed, n, nil, &c, n, begin, end, &scratch, nil)
            }
        }
        return c
    }

    /// bias[j], then + a[i, kk] * w[j, kk] fused, for kk = 0, 1, ...: the kernels' stated order.
    private func reference(a: [Float], w: [Float], bias: [Float]?, m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = bias?[j] ?? 0
                for kk in 0..<k { acc = acc.addingProduct(a[i * k + kk], w[j * k + kk]) }
                c[i * n + j] = acc
            }
        }
        return c
    }

    func testEveryKernelIsBitExactAcrossBlockingEdges() throws {
        guard !kernels.isEmpty else { throw XCTSkip("no packed kernel runs on this CPU") }
        // (m, k, n): one element; rows and features short of a tile; k past one 384-deep pass;
        // rows past one 96-row block; ViT-S/16 shapes; a feature count no panel width divides.
        let shapes = [(1, 1, 1), (7, 5, 33), (13, 400, 50), (200, 800, 97), (201, 384, 64), (9, 1536, 40)]
        for kernel in kernels {
            for (index, (m, k, n)) in shapes.enumerated() {
                let a = seededValues(m * k, seed: UInt64(10 + index)), w = seededValues(n * k, seed: UInt64(20 + index))
                let bias = index % 2 == 0 ? seededValues(n, seed: UInt64(30 + index)) : nil
                let expected = reference(a: a, w: w, bias: bias, m: m, k: k, n: n)
                let got = packedProduct(kernel, a: a, w: w, bias: bias, m: m, k: k, n: n)
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "kernel \(kernel.rawValue), m \(m) k \(k) n \(n)")
                let split = packedProduct(kernel, a: a, w: w, bias: bias, m: m, k: k, n: n, splits: 3)
                XCTAssertEqual(split.map(\.bitPattern), expected.map(\.bitPattern), "panels in 3 calls, kernel \(kernel.rawValue)")
            }
        }
    }

    /// The epilogue's `accumulate` (attention's outputs over tiles of keys): c += a . w^T, each sum
    /// starting from c's value and the bias ignored, bit for bit the stated order, edge panels and
    /// k past one pass included.
    func testAccumulateAddsToWhatCHolds() throws {
        guard !kernels.isEmpty else { throw XCTSkip("no packed kernel runs on this CPU") }
        for kernel in kernels {
            for (m, k, n) in [(13, 400, 50), (1, 3, 64), (30, 64, 24)] {
                let a = seededValues(m * k, seed: 1), w = seededValues(n * k, seed: 2), start = seededValues(m * n, seed: 3)
                var expected = start
                for i in 0..<m { for j in 0..<n { for kk in 0..<k { expected[i * n + j] = expected[i * n + j].addingProduct(a[i * k + kk], w[j * k + kk]) } } }
                let nr = dp_gemm_panel_width(kernel)
                var packed = [Float](repeating: .nan, count: dp_gemm_packed_count(n, k, nr)), scratch = [Float](repeating: .nan, count: dp_gemm_scratch_count())
                dp_gemm_pack(w, n, k, k, nr, &packed)
                var c = start, epilogue = dp_gemm_epilogue(residual: nil, ldr: 0, scale: nil, activation: DP_GEMM_NO_ACTIVATION, stream: 0, accumulate: 1)
                dp_gemm_packed(kernel, a, m, k, k, packed, n, seededValues(n, seed: 4), &c, n, 0, (n + nr - 1) / nr, &scratch, &epilogue)
                XCTAssertEqual(c.map(\.bitPattern), expected.map(\.bitPattern), "kernel \(kernel.rawValue), m \(m) k \(k) n \(n)")
            }
        }
    }

    func testARowsResultDoesNotDependOnItsBatch() throws {
        guard let kernel = kernels.first else { throw XCTSkip("no packed kernel runs on this CPU") }
        let (m, k, n) = (403, 384, 96)
        let a = seededValues(m * k, seed: 5), w = seededValues(n * k, seed: 6), bias = seededValues(n, seed: 7)
        let all = packedProduct(kernel, a: a, w: w, bias: bias, m: m, k: k, n: n)
        for row in [0, 95, 96, 201, 402] {
            let alone = packedProduct(kernel, a: Array(a[(row * k)..<((row + 1) * k)]), w: w, bias: bias, m: 1, k: k, n: n)
            XCTAssertEqual(alone.map(\.bitPattern), all[(row * n)..<((row + 1) * n)].map(\.bitPattern), "row \(row)")
        }
    }

    /// Packing from the transpose (attention's values: [tokens, head_dim] rows) gives the same
    /// panels as packing the matrix, zero padding included, with a row stride wider than the row.
    func testPackingTheTransposeGivesTheSamePanels() {
        for nr in [16, 32] {
            for (n, k) in [(1, 1), (64, 201), (40, 7), (33, 50)] {
                let w = seededValues(n * k, seed: UInt64(n * 1000 + k))
                let ld = n + 5
                var wt = [Float](repeating: .nan, count: k * ld)
                for j in 0..<n { for kk in 0..<k { wt[kk * ld + j] = w[j * k + kk] } }
                let count = dp_gemm_packed_count(n, k, nr)
                var direct = [Float](repeating: .nan, count: count), transposed = [Float](repeating: .nan, count: count)
                dp_gemm_pack(w, n, k, k, nr, &direct)
                dp_gemm_pack_transposed(wt, k, n, ld, nr, &transposed)
                XCTAssertEqual(transposed.map(\.bitPattern), direct.map(\.bitPattern), "nr \(nr), n \(n), k \(k)")
            }
        }
    }

    func testPackedCountRefusesOverflowAndBadSizes() {
        XCTAssertEqual(dp_gemm_packed_count(33, 5, 16), 3 * 5 * 16)
        XCTAssertEqual(dp_gemm_packed_count(0, 5, 16), -1)
        XCTAssertEqual(dp_gemm_packed_count(5, -1, 16), -1)
        XCTAssertEqual(dp_gemm_packed_count(Int.max / 2, Int.max / 2, 16), -1)
    }

    func testPreparedLinearMatchesLibtorchLinear() throws {
        for (rows, k, n, hasBias) in [(2 * 201, 384, 1152, true), (5, 48, 20, false)] {
            let xs = seededValues(rows * k, seed: 1), ws = seededValues(n * k, seed: 2)
            let x = try Tensor(xs, shape: rows % 2 == 0 ? [2, rows / 2, k] : [rows, k])
            let weight = try Tensor(ws, shape: [n, k])
            let bias = hasBias ? try Tensor(seededValues(n, seed: 3), shape: [n]) : nil
            let prepared = try PreparedLinear(weight: weight, bias: bias)
            XCTAssertEqual(prepared.isPacked, dp_gemm_panel_width(DP_SEG_KERNEL_AUTO) > 0)
            let got = try prepared(x), expected = try x.linear(weight, bias)
            XCTAssertEqual(got.shape, expected.shape)
            let diff = zip(try got.floats(), try expected.floats()).map { abs($0 - $1) }.max() ?? .infinity
            // Two float sums of the same k products in different orders differ by at most
            // about k * eps * sum |x w| (the classical bound); here sum |x w| <= k.
            XCTAssertLessThanOrEqual(diff, Float(k) * Float.ulpOfOne * Float(k), "\(rows)x\(k) -> \(n)")
        }
    }

    /// The residual epilogue (a block's layer-scaled residual connection) equals libtorch's
    /// addcmul on the plain product bit for bit: on rows past one task and one block, k past one
    /// pass (the epilogue runs on the last only), and feature counts no vector width divides.
    func testResidualEpilogueEqualsAddcmulBitForBit() throws {
        for (rows, k, n) in [(403, 800, 40), (201, 384, 384), (9, 1536, 20), (1, 7, 1)] {
            let x = try Tensor(seededValues(rows * k, seed: 11), shape: [rows, k])
            let prepared = try PreparedLinear(weight: Tensor(seededValues(n * k, seed: 12), shape: [n, k]), bias: Tensor(seededValues(n, seed: 13), shape: [n]))
            let residual = try Tensor(seededValues(rows * n, seed: 14), shape: [rows, n])
            let scale = try Tensor(seededValues(n, seed: 15).map { $0 * 1e-2 }, shape: [n])
            let fused = try prepared(x, adding: residual, scaledBy: scale)
            let apart = try residual.addingProduct(scale, prepared(x))
            XCTAssertEqual(try fused.floats().map(\.bitPattern), try apart.floats().map(\.bitPattern), "\(rows)x\(k) -> \(n)")
            XCTAssertEqual(try residual.floats(), seededValues(rows * n, seed: 14), "the residual is read, not written")
        }
        let prepared = try PreparedLinear(weight: Tensor(seededValues(8 * 6, seed: 1), shape: [8, 6]), bias: nil)
        let x = try Tensor(seededValues(3 * 6, seed: 2), shape: [3, 6])
        XCTAssertThrowsError(try prepared(x, adding: Tensor(seededValues(3 * 7, seed: 3), shape: [3, 7]), scaledBy: Tensor(seededValues(8, seed: 4), shape: [8])),
                             "a residual of another shape")
        XCTAssertThrowsError(try prepared(x, adding: Tensor(seededValues(3 * 8, seed: 3), shape: [3, 8]), scaledBy: Tensor(seededValues(5, seed: 4), shape: [5])),
                             "a scale of another length")
    }

    /// dp_gelu_erf, every kernel and the scalar path, against PyTorch's float32 GELU on an
    /// AVX-512 CPU (scripts/make_gelu_fixtures.py) bit for bit: zeros, infinities, NaN,
    /// subnormals, both sides of every polynomial's interval edge, random bit patterns, a grid.
    func testGELUMatchesPyTorchBitForBit() throws {
        let fixture = try SafeTensorsFile(path: Fixtures.root.appendingPathComponent("gelu.safetensors").path)
        let input = try fixture.floats("input"), expected = try fixture.floats("gelu")
        for kernel in kernels + [DP_SEG_KERNEL_SCALAR] {
            var x = input
            dp_gelu_erf(kernel, &x, x.count)
            let wrong = zip(x, expected).enumerated().filter { _, pair in
                !(pair.0.bitPattern == pair.1.bitPattern || (pair.0.isNaN && pair.1.isNaN))
            }
            XCTAssertTrue(wrong.isEmpty, "kernel \(kernel.rawValue): \(wrong.count) of \(x.count) differ, first at input "
                          + "\(wrong.first.map { input[$0.offset] } ?? 0): \(wrong.first.map { "\($0.element.0) vs \($0.element.1)" } ?? "")")
        }
        XCTAssertGreaterThan(input.count, 30000)
    }

    /// The GELU epilogue equals dp_gelu_erf applied to the plain product, bit for bit: full and
    /// partial panels, rows past a task, k past one pass (GELU only after the last).
    func testGELUEpilogueEqualsGELUOfTheProduct() throws {
        var outputs: [Float] = []
        for (rows, k, n) in [(403, 800, 40), (201, 384, 1536), (9, 1536, 20), (1, 7, 1)] {
            let x = try Tensor(seededValues(rows * k, seed: 21).map { $0 * 4 }, shape: [rows, k])
            let prepared = try PreparedLinear(weight: Tensor(seededValues(n * k, seed: 22), shape: [n, k]), bias: Tensor(seededValues(n, seed: 23), shape: [n]))
            var apart = try prepared(x).floats()
            if prepared.isPacked { dp_gelu_erf(DP_SEG_KERNEL_AUTO, &apart, apart.count) }
            let fused = try prepared.applyingGELU(x).floats()
            if prepared.isPacked {
                XCTAssertEqual(fused.map(\.bitPattern), apart.map(\.bitPattern), "\(rows)x\(k) -> \(n)")
            } else {
                // No packed kernel here: libtorch's gelu after its linear.
                XCTAssertEqual(fused, try prepared(x).activation(CT_GELU).floats(), "\(rows)x\(k) -> \(n)")
            }
            outputs += fused
        }
        XCTAssertTrue(outputs.contains { $0 < -0.1 } && outputs.contains { $0 > 6 }, "negative inputs and inputs past the last polynomial")
    }

    /// Outputs stored past the caches (the epilogue's `stream`) are the same bits as stored through
    /// them, with and without GELU and the residual, on full and partial panels, short row tiles,
    /// k past one pass; and on a c that is not aligned to the vector width (plain stores there).
    func testStreamedOutputsEqualCachedOutputsBitForBit() throws {
        guard !kernels.isEmpty else { throw XCTSkip("no packed kernel runs on this CPU") }
        let shapes = [(13, 400, 96), (201, 384, 64), (7, 1536, 40), (100, 48, 33)]
        for kernel in kernels {
            let nr = dp_gemm_panel_width(kernel)
            for (index, (m, k, n)) in shapes.enumerated() {
                let a = seededValues(m * k, seed: UInt64(40 + index), scale: 2), w = seededValues(n * k, seed: UInt64(50 + index))
                let bias = seededValues(n, seed: UInt64(60 + index)), residual = seededValues(m * n, seed: UInt64(70 + index))
                let scale = seededValues(n, seed: UInt64(80 + index), scale: 0.1)
                var packed = [Float](repeating: .nan, count: dp_gemm_packed_count(n, k, nr))
                dp_gemm_pack(w, n, k, k, nr, &packed)
                var scratch = [Float](repeating: .nan, count: dp_gemm_scratch_count())
                // c in 64-byte aligned memory, at an offset of 0 floats (streamed) or 1 (not aligned).
                let memory = UnsafeMutableRawPointer.allocate(byteCount: (m * n + 16) * MemoryLayout<Float>.size, alignment: 64)
                defer { memory.deallocate() }
                for offset in [0, 1] {
                    let c = memory.bindMemory(to: Float.self, capacity: m * n + 16) + offset
                    for (activation, withResidual) in [(DP_GEMM_NO_ACTIVATION, false), (DP_GEMM_GELU_ERF, false), (DP_GEMM_NO_ACTIVATION, true)] {
                        var results: [[UInt32]] = []
                        for stream in [Int32(0), 1] {
                            c.update(repeating: .nan, count: m * n)
                            residual.withUnsafeBufferPointer { r in
                                scale.withUnsafeBufferPointer { s in
                                    var epilogue = dp_gemm_epilogue(residual: withResidual ? r.baseAddress : nil, ldr: n,
                                                                    scale: withResidual ? s.baseAddress : nil, activation: activation, stream: stream,
                                                                    accumulate: 0)
                                    dp_gemm_packed(kernel, a, m, k, k, packed, n, bias, c, n, 0, (n + nr - 1) / nr, &scratch, &epilogue)
                                }
                            }
                            results.append((0..<(m * n)).map { c[$0].bitPattern })
                        }
                        let differing = zip(results[0], results[1]).filter { $0 != $1 }.count
                        XCTAssertEqual(differing, 0, "outputs that differ: kernel \(kernel.rawValue), m \(m) k \(k) n \(n), offset \(offset), activation \(activation.rawValue), residual \(withResidual)")
                        XCTAssertFalse(results[1].contains { Float(bitPattern: $0).isNaN }, "every output written")
                    }
                }
            }
        }
    }

    func testPreparedLinearRefusesAMismatchedInput() throws {
        let prepared = try PreparedLinear(weight: Tensor(seededValues(8 * 6, seed: 1), shape: [8, 6]), bias: nil)
        XCTAssertThrowsError(try prepared(Tensor(seededValues(3 * 5, seed: 2), shape: [3, 5])))
    }

    func testAnUnpackedWeightKeepsTheMemoryItBorrowsAlive() throws {
        let storage = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 8 * 6)
        defer { storage.deallocate() }
        for i in 0..<storage.count { storage[i] = 0x3F80 }  // bfloat16 1.0
        var released = false
        var prepared: PreparedLinear?
        do {
            let owner = Owner { released = true }
            let weight = try Tensor.view(UnsafeRawPointer(storage.baseAddress!), shape: [8, 6], dtype: CT_BFLOAT16, owner: owner)
            prepared = try PreparedLinear(weight: weight, bias: nil)
        }
        XCTAssertEqual(prepared?.isPacked, false)
        XCTAssertFalse(released, "an unpacked weight is the borrowed memory itself")
        let x = try Tensor([Float](repeating: 1, count: 6), shape: [1, 6]).to(.cpu, dtype: CT_BFLOAT16)
        XCTAssertEqual(try prepared?(x).to(.cpu).floats(), [Float](repeating: 6, count: 8))
        prepared = nil
        XCTAssertTrue(released)
    }

    func testOtherPrecisionsKeepTheMatrix() throws {
        let weight = try Tensor(seededValues(8 * 6, seed: 1), shape: [8, 6]).to(.cpu, dtype: CT_BFLOAT16)
        let prepared = try PreparedLinear(weight: weight, bias: nil)
        XCTAssertFalse(prepared.isPacked)
        let x = try Tensor(seededValues(2 * 6, seed: 2), shape: [2, 6]).to(.cpu, dtype: CT_BFLOAT16)
        XCTAssertEqual(try prepared(x).shape, [2, 8])
    }
}
