import ArgumentParser
import Backbone
import Foundation
import Heads
import Training

/// A saved classifier head with the feature recipe it was trained on.
struct LoadedClassifier {
    let head: LinearClassifier
    let recipe: FeatureRecipe

    init(path: String) throws {
        head = try LinearClassifier.load(from: path)
        guard let json = head.metadata.extra["recipe"],
              let recipe = try? JSONDecoder().decode(FeatureRecipe.self, from: Data(json.utf8)) else {
            throw ValidationError("\(path) does not record its feature recipe (was it saved by `dinoprobe train-linear`?)")
        }
        self.recipe = recipe
    }

    /// Refuses a backbone other than the one the head was trained on.
    func check(model: DINOv3Model, path: String) throws {
        try head.metadata.checkCompatible(featureRecipe: recipe.summary, backboneFingerprint: model.fingerprint)
        guard recipe.width(dim: model.config.hiddenSize) == head.dim else {
            throw ValidationError("\(path) expects \(head.dim)-wide features; this backbone gives \(recipe.width(dim: model.config.hiddenSize))")
        }
    }

    /// Blocks to extract so that the cache is shared with train-linear.
    func blocks(for model: DINOv3Model) -> Int { cachedBlocks(layers: recipe.blocks, model: model) }
}

/// The blocks train-linear, eval-linear and knn extract, so one cache serves them all.
func cachedBlocks(layers: Int, model: DINOv3Model) -> Int { min(max(layers, 4), model.config.numHiddenLayers) }
