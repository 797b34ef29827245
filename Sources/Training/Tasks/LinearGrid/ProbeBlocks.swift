import Heads
import Images

/// The blocks an image-level probe reads: the last N (`--blocks N`), or explicit 0-based
/// indices (`--layers 2,5,8,11`).
public struct ProbeBlocks: Sendable {
    /// The blocks named, or nil for the last `count`.
    public let explicit: [Int]?
    public let count: Int

    public init(layers: [Int], blocks: Int?) {
        (explicit, count) = layers.isEmpty ? (nil, blocks ?? 1) : (layers, layers.count)
    }

    /// The recipe of `tokens` over these blocks of a backbone `depth` blocks deep (blocks it
    /// lacks are refused).
    public func recipe(tokens: FeatureTokens, preprocessing: Preprocessing, depth: Int) throws -> FeatureRecipe {
        if let explicit {
            guard let last = explicit.last, last < depth else {
                throw TrainingError.badOption("--layers \(explicit.map(String.init).joined(separator: ",")): the model has blocks 0 to \(depth - 1)")
            }
            return FeatureRecipe(tokens: tokens, layers: explicit, preprocessing: preprocessing)
        }
        guard count <= depth else { throw TrainingError.badOption("--blocks \(count): the model has \(depth) blocks") }
        return FeatureRecipe(tokens: tokens, blocks: count, preprocessing: preprocessing)
    }
}
