import Heads
import Images

extension FeatureRecipe {
    /// The recipe of a dense head (segmentation, depth) trained at `resolution` (square, hf preset)
    /// on the last block, or on the blocks `layers` (their patch tokens concatenated per patch).
    public static func dense(resolution: Int, layers: [Int]? = nil, preprocessing base: Preprocessing = Preprocessing()) -> FeatureRecipe {
        var p = base
        p.preset = .hf
        p.size = resolution
        if let layers { return FeatureRecipe(tokens: .patch, layers: layers, preprocessing: p) }
        return FeatureRecipe(tokens: .patch, blocks: 1, preprocessing: p)
    }
}
