import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Support
import Training

/// A dense training command: the option groups the shared dense flow reads.
protocol DenseTrainingCommand: ParsableArguments {
    var modelOptions: ModelOptions { get }
    var cacheOptions: CacheOptions { get }
    var store: DenseStoreOptions { get }
    var pixelLimit: PixelLimitOption { get }
    var inferenceOptions: InferenceOptions { get }
    var runOptions: TrainingRunOptions { get }
    associatedtype Augmentation: DenseAugmentation
    associatedtype Train: DenseDataset where Train.Target == Augmentation.Target
    /// The task's augmentation of training pairs and the seed of its views.
    var augmentation: Augmentation { get }
    var seed: UInt64 { get }
    /// The train split with its bad pairs removed and reported (into `folder` when given).
    func loadTrain(folder: RunFolder?) throws -> Train
}

extension DenseTrainingCommand {
    /// The features at --size the head trains on (blocks checked against `model`) and the augmented views asked for.
    func storeRecipe(model: DINOv3Model) throws -> (FeatureRecipe, AugmentedDenseViews<Augmentation.Target>?) {
        let chosen = store.layers.flattened()
        if let last = chosen.last, last >= model.config.numHiddenLayers {
            throw ValidationError("--layers: the model has blocks 0 to \(model.config.numHiddenLayers - 1)")
        }
        let augmented = store.augment > 0 ? AugmentedDenseViews(augmentation: augmentation, views: store.augment, seed: seed) : nil
        return (FeatureRecipe.dense(resolution: store.size, layers: chosen.isEmpty ? nil : chosen), augmented)
    }

    /// With a shard (`--shard I/N` or the scheduler's), builds only this process's part of the
    /// cached patch store of the train pairs, before any run folder exists, says how to go on and returns true.
    func extractShardIfAsked() throws -> Bool {
        guard let choice = try store.sharding.resolve() else { return false }
        guard let cacheFolder = cacheOptions.folder else { throw ValidationError("--shard builds the patch store in parts in the cache: drop --no-cache") }
        let model = try modelOptions.load()
        let (recipe, augmented) = try storeRecipe(model: model)
        let train = try loadTrain(folder: nil)
        let outcome = try DenseStore.shard(model: model, dataset: train, recipe: recipe, flip: store.flip, augment: augmented,
                                           batchSize: cacheOptions.batchSize(model, height: recipe.preprocessing.size, layers: recipe.blocks),
                                           cacheFolder: cacheFolder, shard: choice.shard, maxPixels: pixelLimit.maxPixels, reporter: TerminalReporter.shared)
        for s in outcome.skipped { Console.err("skipped \(s)") }
        say("shard \(choice.shard) (from \(choice.source)) of train: pairs \(outcome.range.lowerBound)..<\(outcome.range.upperBound) of \(train.count): "
            + "\(outcome.extracted) extracted, \(outcome.reused) already cached\(outcome.skipped.isEmpty ? "" : ", \(outcome.skipped.count) skipped")")
        say("this shard's patch features are cached in \(cacheFolder); once every shard has run, the same command without a shard (--shard none in a sharded environment) trains on them")
        return true
    }

    /// Records the run, trains `task`'s head through the library's dense flow (saying the skipped
    /// pairs, the augmented views and the plan; `passes`: what Meta's step count covers), then
    /// scores it on `val` by `evaluation` (in batches of `evaluationBatch`, default the extraction
    /// batch) and writes the run's results; says the val metrics and returns the files written.
    func trainAndFinish<T: DenseTaskRun>(_ task: T, _ head: String, evaluation: T.Evaluation, evaluationBatch: Int? = nil, passes: String?,
                                         run: RunFolder, model: DINOv3Model, train: T.Data, val: T.Data?, recipe: FeatureRecipe,
                                         augment: AugmentedDenseViews<T.Data.Target>?) throws -> [String] {
        let steps = task.steps, batch = cacheOptions.batchSize(model, height: store.size, layers: recipe.blocks), reporter = TerminalReporter.shared
        let inference = try inferenceOptions.resolved(headSize: store.size)
        try run.update {
            $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount)
            $0.data = .dense(root: train.root, [("train", train), ("val", val)])
            $0.seeds = ["seed": steps.seed]
            $0.record(settings: task.settings)
            $0.options = OptionRecord.values(of: self, resolved: ["iters": steps.iterations, "warmup": steps.warmup, "extract-batch-size": batch,
                                                                  "layers": recipe.layerIndices(depth: model.config.numHiddenLayers)])
        }
        let trained = try task.run(model: model, backboneID: modelOptions.displayID, dataset: train, recipe: recipe, flip: store.flip, augment: augment,
                                   batchSize: batch, cacheFolder: cacheOptions.folder, in: run, maxPixels: pixelLimit.maxPixels,
                                   reporter: reporter) { training, seconds in
            try reportSkipped(training.store.skipped, split: "train-extraction", folder: run)
            if let note = training.augmentationNote { say("augmented: \(note)") }
            let s = training.store
            say("training \(head) on \(s.count) views of \(s.gridHeight)x\(s.gridWidth)x\(s.dim) patch features: \(steps.iterations) steps of batch "
                + "\(steps.batchSize)\(passes.map { " (Meta's passes over the data for \($0))" } ?? ""), about "
                + "\(TerminalTask.formatDuration(Double(steps.iterations) * seconds)) at \(String(format: "%.2f", seconds)) s/step")
            return try run.stateSaving(inputs: training.key, every: runOptions.checkpointEvery, resume: runOptions.resume)
        }
        return try task.finish(trained, evaluation: evaluation, model: model, val: val, inference: inference,
                               batchSize: evaluationBatch ?? batch, in: run, maxPixels: pixelLimit.maxPixels, reporter: reporter) { skipped, result in
            try reportSkipped(skipped, split: "val", folder: run)
            if let result { say(result.table(maxNameWidth: 28)) }
        }
    }
}
