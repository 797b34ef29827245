import Foundation
import Heads
import SafeTensors

extension DepthHead: SavedHead {
    /// The metadata key (in `extra`) holding the recipe as JSON.
    public static let recipeKey = "depth_recipe"

    /// Writes the head atomically as the state dict Meta's `LinearHead` loads
    /// (`batchnorm_layer.*` F32 [C] and `num_batches_tracked` I64 scalar, `conv_depth.weight` F32
    /// [bins, C, 1, 1], `conv_depth.bias` [bins]), with the metadata and the recipe.
    public func save(to path: String) throws {
        guard convWeight.count == recipe.bins * dim, convBias.count == recipe.bins, batchNorm.channels == dim else {
            throw HeadError.invalidArgument(what: "depth head parameters", detail: "conv weight must be \(recipe.bins) x \(dim)")
        }
        let norm = HeadFile.tensors(of: batchNorm, prefix: "batchnorm_layer")
        try HeadFile.save(to: path, metadata: Self.recording(recipe, in: metadata), classes: 1,
                          tensors: norm.floats + [("conv_depth.weight", convWeight, [recipe.bins, dim, 1, 1]), ("conv_depth.bias", convBias, [recipe.bins])],
                          int64s: norm.int64s)
    }

    /// Reads a head written by `save(to:)` or a state dict made by PyTorch with dinoprobe's
    /// metadata: shapes checked against the recipe, NaN and infinity refused.
    public static func load(from path: String) throws -> DepthHead {
        let (file, metadata) = try HeadFile.open(path, kind: .depth)
        try HeadFile.rejectUnknownTensors(file, known: ["conv_depth.weight", "conv_depth.bias", "batchnorm_layer.weight", "batchnorm_layer.bias",
                                                        "batchnorm_layer.running_mean", "batchnorm_layer.running_var",
                                                        "batchnorm_layer.num_batches_tracked"])
        let recipe = try Self.recipe(of: metadata, path: path)
        let shape = try HeadFile.shape(file, "conv_depth.weight")
        guard shape.count == 4, shape[0] == recipe.bins, shape[1] > 0, shape[2] == 1, shape[3] == 1 else {
            throw HeadError.notAHead(path: path, reason: "its 'conv_depth.weight' has shape \(shape), not [\(recipe.bins), channels, 1, 1]")
        }
        let norm = try HeadFile.batchNorm(file, prefix: "batchnorm_layer", channels: shape[1])
        return try DepthHead(convWeight: try HeadFile.floats(file, "conv_depth.weight", shape: shape),
                             convBias: try HeadFile.floats(file, "conv_depth.bias", shape: [recipe.bins]),
                             batchNorm: norm, recipe: recipe, metadata: metadata)
    }

    /// The recipe recorded in `metadata`, checked.
    static func recipe(of metadata: HeadMetadata, path: String) throws -> DepthHeadRecipe {
        guard let text = metadata.extra[recipeKey] else {
            throw HeadError.badMetadata(path: path, key: recipeKey, reason: "missing; the head does not say its bins and depth range")
        }
        guard let recipe = try? JSONDecoder().decode(DepthHeadRecipe.self, from: Data(text.utf8)) else {
            throw HeadError.badMetadata(path: path, key: recipeKey, reason: "'\(text.prefix(120))' is not a depth recipe")
        }
        do { try recipe.validate() } catch { throw HeadError.badMetadata(path: path, key: recipeKey, reason: "\(error)") }
        return recipe
    }

    /// `metadata` with the recipe recorded.
    static func recording(_ recipe: DepthHeadRecipe, in metadata: HeadMetadata) -> HeadMetadata {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var m = metadata
        m.extra[recipeKey] = (try? encoder.encode(recipe)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return m
    }
}
