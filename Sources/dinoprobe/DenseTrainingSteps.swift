import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
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

/// A dense run's training store (cached, or temporary in the run folder) and its key, the pairs it
/// skipped reported and the augmented views described (`augmentation` names the pipeline).
func denseTrainingStore<D: DenseDataset>(run: RunFolder, model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool,
                                         augment: AugmentedDenseViews<D.Target>?, augmentation: String, batchSize: Int,
                                         cacheFolder: String?, maxPixels: Int) throws -> (store: PatchFeatureStore, key: String) {
    let training = try DenseTrainingStore(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment, augmentation: augmentation,
                                          batchSize: batchSize, cacheFolder: cacheFolder, scratchFolder: run.path, maxPixels: maxPixels,
                                          reporter: TerminalReporter.shared)
    try reportSkipped(training.store.skipped, split: "train-extraction", folder: run)
    if let note = training.augmentationNote {
        say("augmented: \(note)")
        try run.update { $0.notes["augmentation"] = note }
    }
    return (training.store, training.key)
}

/// A dense run's val split, or nil (said on standard error) when the data set has none; any other
/// problem with the val split (unreadable folder, bad class list) is an error, not "no val split".
func optionalVal<D>(_ load: () throws -> D) throws -> D? {
    do { return try load() } catch let DatasetError.missingSplit(_, path, _) {
        Console.err("no val split (\(shown(path)) does not exist): the head is trained but not evaluated")
        return nil
    }
}

/// Records a dense training run in run.json: backbone, data, seed, settings, and `command`'s options
/// with the resolved step counts, extraction batch and blocks.
func recordDenseRun<D: DenseDataset, S: TaskSettings>(_ run: RunFolder, model: DINOv3Model, modelOptions: ModelOptions, train: D, val: D?, root: String,
                                                       settings: S, seed: UInt64, command: ParsableArguments, iterations: Int, warmup: Int,
                                                       batchSize: Int, recipe: FeatureRecipe) throws {
    try run.update {
        $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
        $0.data = .dense(root: root, [("train", train), ("val", val)])
        $0.seeds = ["seed": seed]
        $0.record(settings: settings)
        $0.options = OptionRecord.values(of: command, resolved: ["iters": iterations, "warmup": warmup, "extract-batch-size": batchSize,
                                                                 "layers": recipe.layerIndices(depth: model.config.numHiddenLayers)])
    }
}

/// The line announcing a dense head's training: views, grid, steps (`passes`: how Meta's count was
/// made, when --iters was not given) and the time it should take.
func denseTrainingPlan(_ head: String, store: PatchFeatureStore, iterations: Int, batchSize: Int, passes: String?, secondsPerStep: Double) -> String {
    "training \(head) on \(store.count) views of \(store.gridHeight)x\(store.gridWidth)x\(store.dim) patch features: "
        + "\(iterations) steps of batch \(batchSize)\(passes.map { " (Meta's passes over the data for \($0))" } ?? ""), "
        + "about \(TerminalTask.formatDuration(Double(iterations) * secondsPerStep)) at \(String(format: "%.2f", secondsPerStep)) s/step"
}
