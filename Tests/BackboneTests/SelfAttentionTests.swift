@testable import Backbone
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
        try compare(batch: 2, tokens: 561, patches: 556, heads: 2, headDim: 16) // three query blocks, the last partial
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
}
