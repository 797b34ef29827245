import Backbone
import Evaluation
import Foundation
import Heads
import Plots
import Support

/// A trained dense task (segmentation, depth) as `DenseTaskRun.run` and `finish` drive it: its
/// head's metadata, a timed step for the estimate, the training itself on a patch store, and what
/// the finished run writes (the head, its val scores through the task's `Evaluation`, report.html).
public protocol DenseTaskRun {
    associatedtype Data: DenseDataset
    associatedtype Head
    associatedtype Evaluation: DenseTaskEvaluation where Evaluation.Data == Data, Evaluation.Head == Head
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
    /// What the loss curve's title calls the loss.
    var lossName: String { get }
    /// Saves the trained head at `path`.
    func save(_ head: Head, to path: String) throws
    /// report.html of a finished run: its `record`, the val `result` (nil: no val split) with
    /// `samples` of `val`, the views trained on and the loss curve (`losses`, PNG).
    func page(record: RunRecord, result: Evaluation.Metrics.Result?, samples: [DensePrediction<Evaluation.Prediction>], val: Data?,
              views: Int, losses: Foundation.Data, maxPixels: Int) -> HTMLReport
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

extension DenseTaskRun {
    /// Seconds the faster of two runs of `step` takes (a throwaway head's training step), for the time estimate.
    public static func fasterOfTwo(_ step: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<2 {
            let start = Date()
            try step()
            best = min(best, Date().timeIntervalSince(start))
        }
        return best
    }

    /// The end of a dense training run in `run`: the trained head scored on `val` (when there is
    /// one) by `evaluation`, its skipped pairs and val result (nil without val) handed to `evaluated`
    /// before anything is written, then head.safetensors, train_log.csv, loss_curves.png, the val
    /// scores and report.html written into the run's staging folder. Returns the files written.
    public func finish(_ trained: DenseTrainingOutcome<Head>, evaluation: Evaluation, model: DINOv3Model, val: Data?, inference: DenseInference,
                       batchSize: Int, in run: RunFolder, maxPixels: Int, reporter: Reporter,
                       evaluated: ([SkippedInput], Evaluation.Metrics.Result?) throws -> Void) throws -> [String] {
        var samples: [DensePrediction<Evaluation.Prediction>] = []
        let scores = try val.map { val in
            try evaluation.evaluate(trained.head, model: model, dataset: val, inference: inference, batchSize: batchSize, maxPixels: maxPixels,
                                    reporter: reporter) { if samples.count < 6 { samples.append($0) } }
        }
        let result = try scores?.metrics.finish(), folder = try run.staging()
        try evaluated(scores?.skipped ?? [], result)
        try save(trained.head, to: folder + "/head.safetensors")
        try AtomicFile.write(Foundation.Data(trained.log.csv().utf8), to: folder + "/train_log.csv")
        let losses = try RunReports.lossCurves(trained.log, title: "\(lossName) (\(steps.iterations) steps of batch \(steps.batchSize))")
        try losses.write(to: folder + "/loss_curves.png")
        let outputs = try ["head.safetensors", "train_log.csv", "loss_curves.png"] + (scores?.metrics.writeScores(to: folder) ?? [])
        try page(record: run.record, result: result, samples: samples, val: val, views: trained.store.count, losses: losses.pngData(),
                 maxPixels: maxPixels).write(to: folder + "/report.html")
        return outputs + ["report.html"]
    }
}
