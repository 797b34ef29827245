@testable import Backbone
import CPackedGEMM
import CSegKernels
import CTorch
import Foundation
import TestSupport
import XCTest

/// The fused CPU self-attention kernel against the same computation in ATen ops (the path other
/// devices and precisions take), and the lifetime of views of memory libtorch does not own.
final class SelfAttentionTests: XCTestCase {
    private func compare(batch: Int, tokens: Int, patches: Int, heads: Int, headDim: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let width = 3 * heads * headDim
        let qkv = try Tensor(seededValues(batch * tokens * width, seed: 1, scale: 2), shape: [batch, tokens, width])
        let angles = seededValues(patches * headDim, seed: 2, scale: 3)
        let cos = try Tensor(angles.map { Foundation.cos($0) }, shape: [patches, headDim])
        let sin = try Tensor(angles.map { Foundation.sin($0) }, shape: [patches, headDim])
        let scale = 1 / Double(headDim).squareRoot()
        let ops = try Tensor.selfAttention(qkv: qkv, cos: cos, sin: sin, heads: heads, scale: scale, fusedKernel: false)
        let b = try ops.floats()
        // The kernel's products on the packed GEMM (where one runs here) and on OpenBLAS.
        for blas in [false, true] {
            let kernel = try Tensor.selfAttention(qkv: qkv, cos: cos, sin: sin, heads: heads, scale: scale, blasProducts: blas)
            XCTAssertEqual(kernel.shape, [batch, tokens, heads * headDim], file: file, line: line)
            XCTAssertEqual(ops.shape, kernel.shape, file: file, line: line)
            let a = try kernel.floats()
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(diff, 2e-6, "kernel (\(blas ? "OpenBLAS" : "packed") products) vs ATen ops, \(batch)x\(tokens) tokens, \(heads) heads of \(headDim)",
                                     file: file, line: line)
            XCTAssertGreaterThan(a.map(abs).max() ?? 0, 0.1, "the output is not trivially zero", file: file, line: line)
        }
    }

    func testKernelEqualsATenOpsAtViTS16Shape() throws {
        try compare(batch: 2, tokens: 201, patches: 196, heads: 6, headDim: 64)
    }

    func testKernelEqualsATenOpsOnOddShapes() throws {
        try compare(batch: 3, tokens: 11, patches: 8, heads: 3, headDim: 16)   // CLS + 2 registers
        try compare(batch: 1, tokens: 7, patches: 7, heads: 2, headDim: 8)     // no unrotated tokens
        try compare(batch: 1, tokens: 37, patches: 35, heads: 1, headDim: 128) // head dim 128, one head
        try compare(batch: 2, tokens: 561, patches: 556, heads: 2, headDim: 16) // three query tiles
        try compare(batch: 1, tokens: 1100, patches: 1095, heads: 2, headDim: 16) // two tiles of keys: the online softmax
    }

    func testIdentityRotationIsPlainSoftmaxAttention() throws {
        // cos 1, sin 0 rotates nothing: the result must be softmax(q k^T * scale) v computed by hand.
        let (tokens, patches, heads, hd) = (5, 4, 1, 4)
        let qkv = try Tensor(seededValues(tokens * 3 * heads * hd, seed: 9), shape: [1, tokens, 3 * heads * hd])
        let identityCos = try Tensor([Float](repeating: 1, count: patches * hd), shape: [patches, hd])
        let zeroSin = try Tensor([Float](repeating: 0, count: patches * hd), shape: [patches, hd])
        let rotated = try Tensor.selfAttention(qkv: qkv, cos: identityCos, sin: zeroSin, heads: heads, scale: 0.5).floats()
        // Plain softmax attention computed here.
        let x = try qkv.floats(), d = heads * hd
        var expected = [Float](repeating: 0, count: tokens * d)
        for i in 0..<tokens {
            var scores = (0..<tokens).map { j in (0..<hd).reduce(Float(0)) { $0 + x[i * 3 * d + $1] * x[j * 3 * d + d + $1] } * 0.5 }
            let top = scores.max()!
            scores = scores.map { Foundation.exp($0 - top) }
            let sum = scores.reduce(0, +)
            for c in 0..<hd { expected[i * d + c] = (0..<tokens).reduce(Float(0)) { $0 + scores[$1] / sum * x[$1 * 3 * d + 2 * d + c] } }
        }
        XCTAssertLessThanOrEqual(maxAbsDiff(rotated, expected), 1e-5)
    }

    func testBadShapesAreErrorsNotCrashes() throws {
        let qkv = try Tensor(seededValues(2 * 5 * 24, seed: 3), shape: [2, 5, 24])
        let cos = try Tensor(seededValues(4 * 4, seed: 4), shape: [4, 4])
        XCTAssertThrowsError(try Tensor.selfAttention(qkv: qkv, cos: cos, sin: cos, heads: 5, scale: 1), "24 is not 3 x 5 heads")
        let tooMany = try Tensor(seededValues(6 * 4, seed: 5), shape: [6, 4])
        XCTAssertThrowsError(try Tensor.selfAttention(qkv: qkv, cos: tooMany, sin: tooMany, heads: 2, scale: 1), "6 patches > 5 tokens")
        let odd = try Tensor(seededValues(2 * 5 * 18, seed: 6), shape: [2, 5, 18])
        let oddTables = try Tensor(seededValues(4 * 3, seed: 7), shape: [4, 3])
        XCTAssertThrowsError(try Tensor.selfAttention(qkv: odd, cos: oddTables, sin: oddTables, heads: 2, scale: 1), "head dim 3 is odd")
    }

    /// Marks when the memory it stands for would have been released.
    func testViewsOfBorrowedMemoryKeepItsOwnerAlive() throws {
        let storage = UnsafeMutableBufferPointer<Float>.allocate(capacity: 12)
        defer { storage.deallocate() }
        for i in 0..<12 { storage[i] = Float(i) }
        var released = false
        var derived: [Tensor] = []
        do {
            let owner = Owner { released = true }
            let base = try Tensor.view(UnsafeRawPointer(storage.baseAddress!), shape: [3, 4], dtype: CT_FLOAT32, owner: owner)
            derived = [try base.reshape([4, 3]), try base.permute([1, 0]), try base.narrow(1, start: 1, length: 2),
                       try base.reshape([1, 12]).expand([2, 12]), try base.to(.cpu)]
        }
        XCTAssertFalse(released, "views of borrowed memory must keep its owner")
        XCTAssertEqual(try derived[0].floats(), (0..<12).map(Float.init))
        derived.removeAll()
        XCTAssertTrue(released, "the owner goes with the last view")
    }

    /// The kernels this CPU runs the tiled attention on (AVX-512 and AVX2 where available).
    private var tileKernels: [dp_seg_kernel] {
        [DP_SEG_KERNEL_AVX512, DP_SEG_KERNEL_AVX2].filter { dp_seg_kernel_available($0) != 0 && dp_gemm_panel_width($0) > 0 }
    }

    /// One head ([tokens, 3 * hd] rows of q, k, v) through dp_attention_pack and
    /// dp_attention_queries, the queries in tiles of `queryTile` rows.
    private func tiled(_ kernel: dp_seg_kernel, _ qkv: [Float], tokens: Int, hd: Int, prefix: Int, cos: [Float], sin: [Float],
                       queryTile: Int, keyTile: Int, scale: Float) -> [Float] {
        let width = 3 * hd
        var packed = [Float](repeating: .nan, count: dp_attention_packed_count(kernel, tokens, hd, keyTile))
        var scratch = [Float](repeating: .nan, count: dp_attention_scratch_count(kernel, tokens, hd, queryTile, keyTile))
        var out = [Float](repeating: .nan, count: tokens * hd)
        qkv.withUnsafeBufferPointer { x in
            let rows = x.baseAddress!
            dp_attention_pack(kernel, rows + hd, rows + 2 * hd, width, tokens, hd, prefix, cos, sin, keyTile, &packed, &scratch)
            out.withUnsafeMutableBufferPointer { o in
                for first in Swift.stride(from: 0, to: tokens, by: queryTile) {
                    dp_attention_queries(kernel, rows, width, first, min(queryTile, tokens - first), tokens, hd, prefix, cos, sin,
                                         packed, keyTile, scale, o.baseAddress! + first * hd, hd, &scratch)
                }
            }
        }
        return out
    }

    /// softmax(q k^T * scale) v in Double from the same Float inputs, q and k rotated by RoPE from
    /// token `prefix` on.
    private func exactAttention(_ qkv: [Float], tokens: Int, hd: Int, prefix: Int, cos: [Float], sin: [Float], scale: Double) -> [Double] {
        func rotated(_ part: Int, _ r: Int) -> [Double] {
            let x = (0..<hd).map { Double(qkv[r * 3 * hd + part * hd + $0]) }
            guard r >= prefix else { return x }
            let (half, row) = (hd / 2, (r - prefix) * hd)
            return (0..<hd).map { i in x[i] * Double(cos[row + i]) + (i < half ? -x[i + half] : x[i - half]) * Double(sin[row + i]) }
        }
        let q = (0..<tokens).map { rotated(0, $0) }, k = (0..<tokens).map { rotated(1, $0) }
        var out = [Double](repeating: 0, count: tokens * hd)
        for i in 0..<tokens {
            let scores = k.map { key in zip(q[i], key).reduce(0) { $0 + $1.0 * $1.1 } * scale }
            let top = scores.max()!, e = scores.map { Foundation.exp($0 - top) }, sum = e.reduce(0, +)
            for j in 0..<tokens { for c in 0..<hd { out[i * hd + c] += e[j] / sum * Double(qkv[j * 3 * hd + 2 * hd + c]) } }
        }
        return out
    }

    /// The tiled kernel against exact attention, with both kernel families: one token (with and
    /// without CLS), odd token counts, tokens short of one key tile, past several and not a multiple
    /// of it; no prefix, CLS alone, CLS and 4 registers; head dims no panel width divides. Key
    /// tiles of one panel (many tiles: the online softmax), 48 keys, and all keys; query tiles of
    /// 1, 5 and 64 rows, whose results must agree bit for bit (a row's result does not depend on
    /// the rows beside it, so neither on how tasks are split over threads).
    func testTiledKernelEqualsExactAttention() throws {
        guard !tileKernels.isEmpty else { throw XCTSkip("no packed kernel runs on this CPU") }
        let cases = [(1, 1, 16), (1, 0, 8), (2, 1, 8), (7, 5, 16), (31, 1, 64), (33, 5, 24), (97, 0, 16), (130, 5, 64)]
        var worst: Float = 0
        for (index, (tokens, prefix, hd)) in cases.enumerated() {
            let qkv = seededValues(tokens * 3 * hd, seed: UInt64(40 + index), scale: 2)
            let angles = seededValues((tokens - prefix) * hd, seed: UInt64(60 + index), scale: 3)
            let (cos, sin) = (angles.map { Foundation.cos($0) }, angles.map { Foundation.sin($0) })
            let scale = 1 / Float(hd).squareRoot()
            let exact = exactAttention(qkv, tokens: tokens, hd: hd, prefix: prefix, cos: cos, sin: sin, scale: Double(scale)).map { Float($0) }
            for kernel in tileKernels {
                for keyTile in [1, 48, 4096] {
                    let results = [1, 5, 64].map { tiled(kernel, qkv, tokens: tokens, hd: hd, prefix: prefix, cos: cos, sin: sin, queryTile: $0, keyTile: keyTile, scale: scale) }
                    let label = "kernel \(kernel.rawValue), \(tokens) tokens (prefix \(prefix)) of \(hd), key tile \(keyTile)"
                    for other in results.dropFirst() { XCTAssertEqual(other.map(\.bitPattern), results[0].map(\.bitPattern), label) }
                    let diff = maxAbsDiff(results[0], exact)
                    worst = max(worst, diff)
                    XCTAssertLessThanOrEqual(diff, 2e-6, label)
                }
            }
        }
        XCTAssertGreaterThan(worst, 0, "Float arithmetic is not exact: the comparison saw the kernel's results")
    }

    /// Over several tiles of keys the scale times log2 e goes into the queries (rounded once each)
    /// and the online softmax runs in base 2: the kernel against those steps composed by hand
    /// (rotated queries times that factor, the scores, the online softmax with a scale of 1), bit
    /// for bit, at a scale that is not a power of two as well.
    func testScaleTimesLog2eInTheQueriesGivesTheBitsOfTheComposedSteps() throws {
        guard !tileKernels.isEmpty else { throw XCTSkip("no packed kernel runs on this CPU") }
        let (tokens, prefix, hd, keyTile) = (130, 5, 64, 48)
        let qkv = seededValues(tokens * 3 * hd, seed: 81, scale: 2), angles = seededValues((tokens - prefix) * hd, seed: 82, scale: 3)
        let (cos, sin) = (angles.map { Foundation.cos($0) }, angles.map { Foundation.sin($0) })
        for (kernel, scale) in tileKernels.flatMap({ kernel in [Float(0.125), 0.3].map { (kernel, $0) } }) {
            let toBase2 = Float(Double(scale) * DP_LOG2E)
            let fused = tiled(kernel, qkv, tokens: tokens, hd: hd, prefix: prefix, cos: cos, sin: sin, queryTile: tokens,
                              keyTile: keyTile, scale: scale)
            let (nr, kt) = (dp_gemm_panel_width(kernel), dp_attention_key_tile(kernel, tokens, keyTile))
            let tileFloats = kt * (hd + (hd + nr - 1) / nr * nr), ss = kt + 16
            var packed = [Float](repeating: .nan, count: dp_attention_packed_count(kernel, tokens, hd, keyTile))
            var scratch = [Float](repeating: .nan, count: dp_attention_scratch_count(kernel, tokens, hd, tokens, keyTile))
            var queries = [Float](repeating: 0, count: tokens * hd), scores = [Float](repeating: 0, count: tokens * ss)
            var (tileMaxima, maxima, sums) = ([Float](repeating: 0, count: tokens), [Float](repeating: -.infinity, count: tokens),
                                              [Float](repeating: 0, count: tokens))
            var out = [Float](repeating: 0, count: tokens * hd), gemm = [Float](repeating: 0, count: dp_gemm_scratch_count())
            var gather = dp_gemm_epilogue(residual: nil, ldr: 0, scale: nil, activation: DP_GEMM_NO_ACTIVATION, stream: 0, accumulate: 1)
            qkv.withUnsafeBufferPointer { x in
                dp_attention_pack(kernel, x.baseAddress! + hd, x.baseAddress! + 2 * hd, 3 * hd, tokens, hd, prefix, cos, sin, keyTile, &packed, &scratch)
                dp_rope_rows(kernel, x.baseAddress!, 3 * hd, tokens, hd, prefix, cos, sin, &queries)
            }
            for i in queries.indices { queries[i] *= toBase2 }
            packed.withUnsafeBufferPointer { p in
                for key in Swift.stride(from: 0, to: tokens, by: kt) {
                    let (n, tile) = (min(kt, tokens - key), p.baseAddress! + key / kt * tileFloats)
                    dp_gemm_scores(kernel, queries, tokens, hd, hd, tile, (n + nr - 1) / nr, n, &scores, ss, &tileMaxima)
                    dp_softmax_online_rows(kernel, &scores, tokens, n, ss, 1, tileMaxima, &maxima, &sums, &out, hd, hd)
                    dp_gemm_packed(kernel, scores, tokens, n, ss, tile + kt * hd, hd, nil, &out, hd, 0, (hd + nr - 1) / nr, &gemm, &gather)
                }
            }
            dp_softmax_online_finish(kernel, sums, tokens, &out, hd, hd)
            XCTAssertGreaterThan(tokens, kt, "several tiles of keys")
            XCTAssertEqual(zip(fused, out).filter { $0.bitPattern != $1.bitPattern }.count, 0, "values differing, kernel \(kernel.rawValue), scale \(scale)")
        }
    }

    /// The fused kernel's output does not depend on the number of threads, bit for bit (rows in
    /// three query tiles per head, heads and images spread over the team).
    func testResultDoesNotDependOnTheThreadCount() throws {
        let (batch, tokens, patches, heads, hd) = (2, 561, 556, 3, 16)
        let qkv = try Tensor(seededValues(batch * tokens * 3 * heads * hd, seed: 21, scale: 2), shape: [batch, tokens, 3 * heads * hd])
        let angles = seededValues(patches * hd, seed: 22, scale: 3)
        let cos = try Tensor(angles.map { Foundation.cos($0) }, shape: [patches, hd])
        let sin = try Tensor(angles.map { Foundation.sin($0) }, shape: [patches, hd])
        let threads = Torch.threads
        defer { Torch.setThreads(threads) }
        let results = try [1, 2, 3].map { n -> [UInt32] in
            Torch.setThreads(n)
            return try Tensor.selfAttention(qkv: qkv, cos: cos, sin: sin, heads: heads, scale: 0.25).floats().map(\.bitPattern)
        }
        XCTAssertEqual(results[1], results[0], "2 threads vs 1")
        XCTAssertEqual(results[2], results[0], "3 threads vs 1")
    }
}
