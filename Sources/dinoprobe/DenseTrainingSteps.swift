import ArgumentParser
import CommandLineKit
import Backbone
import Foundation
import Heads
import Support
import Training

/// Builds only this process's shard of a dense task's cached patch store (`--shard I/N` or the
/// scheduler's), before any run folder exists, and tells how to go on.
func extractDenseShard<D: DenseDataset>(_ choice: ShardEnvironment.Choice, model: DINOv3Model, dataset train: D, recipe: FeatureRecipe,
                                        flip: Bool, augment: AugmentedDenseViews<D.Target>?, batchSize: Int, cacheFolder: String,
                                        maxPixels: Int) throws {
    let outcome = try DenseStore.shard(model: model, dataset: train, recipe: recipe, flip: flip, augment: augment, batchSize: batchSize,
                                       cacheFolder: cacheFolder, shard: choice.shard, maxPixels: maxPixels, reporter: TerminalReporter.shared)
    for s in outcome.skipped { Console.err("skipped \(s)") }
    say("shard \(choice.shard) (from \(choice.source)) of train: pairs \(outcome.range.lowerBound)..<\(outcome.range.upperBound) of \(train.count): "
        + "\(outcome.extracted) extracted, \(outcome.reused) already cached\(outcome.skipped.isEmpty ? "" : ", \(outcome.skipped.count) skipped")")
    say("this shard's patch features are cached in \(cacheFolder); once every shard has run, the same command without a shard (--shard none in a sharded environment) trains on them")
}

/// A dense run's training store (cached, or temporary in the run folder), with the pairs it
/// skipped reported, the augmented views described (`augmentation` names the pipeline), and the
/// key that names the store in saved training states.
func denseTrainingStore<D: DenseDataset>(run: RunFolder, model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                         augment: AugmentedDenseViews<D.Target>?, augmentation: String, batchSize: Int,
                                         cacheFolder: String?, maxPixels: Int) throws -> (store: PatchFeatureStore, key: String) {
    let start = Date()
    let store = try DenseStore.obtain(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment, batchSize: batchSize,
                                      cacheFolder: cacheFolder, scratchFolder: run.path, maxPixels: maxPixels, reporter: TerminalReporter.shared)
    try reportSkipped(store.skipped, split: "train-extraction", folder: run)
    if let augment {
        let note = "\(augment.views) views per training pair (\(augmentation)): \(store.count) views, \(String(format: "%.1f", Date().timeIntervalSince(start))) s to extract or load"
        say("augmented: \(note)")
        try run.update { $0.notes["augmentation"] = note }
    }
    return (store, DenseStore.key(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment))
}
