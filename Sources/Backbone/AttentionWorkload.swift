import Foundation
import Support

/// One call of the backbone's CPU self-attention kernel on random inputs of a given shape (one
/// image; q, k, v of `heads` heads of `headDim`; CLS and 4 registers before the rotated patches),
/// for timing the kernel alone (`bench attention`).
public struct AttentionWorkload {
    private let qkv: Tensor, cos: Tensor, sin: Tensor
    public let tokens: Int, heads: Int, headDim: Int

    public init(tokens: Int, heads: Int, headDim: Int, seed: UInt64 = 7) throws {
        var random = SeededRandom(seed: seed)
        let patches = max(1, tokens - 5), angles = random.normals(count: patches * headDim, std: 3)
        qkv = try Tensor(random.normals(count: tokens * 3 * heads * headDim), shape: [1, tokens, 3 * heads * headDim])
        cos = try Tensor(angles.map { Foundation.cos($0) }, shape: [patches, headDim])
        sin = try Tensor(angles.map { Foundation.sin($0) }, shape: [patches, headDim])
        (self.tokens, self.heads, self.headDim) = (tokens, heads, headDim)
    }

    /// Floating-point operations of the two products (q k^T and the probabilities times v).
    public var flops: Double { 4 * Double(tokens) * Double(tokens) * Double(heads * headDim) }

    /// Runs the kernel once.
    public func run() throws {
        _ = try Tensor.selfAttention(qkv: qkv, cos: cos, sin: sin, heads: heads, scale: 1 / Double(headDim).squareRoot())
    }
}
