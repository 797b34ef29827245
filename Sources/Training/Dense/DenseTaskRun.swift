import Backbone
import Foundation
import Heads
import Support

/// A trained dense task (segmentation, depth) as `DenseTaskRun.run` drives it: its head's
/// metadata, a timed step for the estimate, and the training itself on a patch store.
public protocol DenseTaskRun {
    associatedtype Data: DenseDataset
    associatedtype Head
    associatedtype Settings: TaskSettings
    var settings: Settings { get }
    /// The resolved training schedule, as run.json records it.
    var steps: (iterations: Int, warmup: Int, batchSize: Int, seed: UInt64) { get }
    /// The pipeline of the task's augmented views, as the run's note names it.
    static func augmentationName(size: Int) -> String
    /// What a head trained with `recipe` records (recipe, backbone, task facts, run).
    func headMetadata(recipe: FeatureRecipe, backboneID: String, model: DINOv3Model, runID: String) -> HeadMetadata
    /// Seconds one training step takes here on `store`, for the time estimate.
    func secondsPerStep(store: PatchFeatureStore) throws -> Double
    /// The head trained on `store` (resumable through `saving`) and its per-step log.
    func train(store: PatchFeatureStore, metadata: HeadMetadata, saving: StateSaving?, reporter: Reporter) throws -> (head: Head, log: TrainingLog)
}

/// A dense run's trained head, its log and the store it was trained on.
public struct DenseTrainingOutcome<Head> {
    public let head: Head
    public let log: TrainingLog
    public let store: PatchFeatureStore
}

extension DenseTaskRun {
    /// The shared flow of a dense training run in `run`: extracts or loads `dataset`'s training
    /// store (its augmentation note recorded in run.json), then trains the head. `ready` gets the
    /// store and the seconds a step takes (to report them) and returns how training state is saved.
    public func run(model: DINOv3Model, backboneID: String, dataset: Data, recipe: FeatureRecipe, flip: Bool,
                    augment: AugmentedDenseViews<Data.Target>?, batchSize: Int, cacheFolder: String?, in run: RunFolder, maxPixels: Int,
                    reporter: Reporter, ready: (DenseTrainingStore, Double) throws -> StateSaving) throws -> DenseTrainingOutcome<Head> {
        let training = try DenseTrainingStore(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment,
                                              augmentation: Self.augmentationName(size: recipe.preprocessing.size), batchSize: batchSize,
                                              cacheFolder: cacheFolder, scratchFolder: run.path, maxPixels: maxPixels, reporter: reporter)
        if let note = training.augmentationNote { try run.update { $0.notes["augmentation"] = note } }
        let metadata = headMetadata(recipe: recipe, backboneID: backboneID, model: model, runID: run.record.runID)
        let saving = try ready(training, try secondsPerStep(store: training.store))
        let (head, log) = try train(store: training.store, metadata: metadata, saving: saving, reporter: reporter)
        return DenseTrainingOutcome(head: head, log: log, store: training.store)
    }
}
