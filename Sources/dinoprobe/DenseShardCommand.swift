import ArgumentParser
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
