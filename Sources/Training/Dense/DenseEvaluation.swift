import Backbone
import Datasets
import Evaluation
import Foundation
import Heads
import Support

/// A dense task's metric as the shared evaluation writes it: metrics.json and the task's per-image files.
public protocol DenseMetrics: MetricAccumulator {
    /// Writes the score files into `folder`; returns their names.
    func writeScores(to folder: String) throws -> [String]
}

/// One val image's prediction at its target's size, kept for a report's pictures.
public typealias DensePrediction<Value> = (index: Int, value: Value)

/// How a dense task scores a head on a split (segmentation: class masks, mIoU; depth: depth maps,
/// Meta's ten metrics): the head checked against the data, then predicted and scored at each target's size.
public protocol DenseTaskEvaluation {
    associatedtype Data: DenseDataset
    associatedtype Head: DenseHead
    associatedtype Metrics: DenseMetrics
    associatedtype Prediction: Sendable
    /// Refuses a saved head that does not fit `dataset` (segmentation: other classes), or notes what may surprise.
    func check(_ head: Head, against dataset: Data, reporter: Reporter) throws
    /// The evaluation note run.json keeps (nil: none).
    func note(inference: DenseInference) -> String?
    /// `head`'s scores on `dataset` and the pairs skipped; `onPrediction` gets each image's prediction.
    func evaluate(_ head: Head, model: DINOv3Model, dataset: Data, inference: DenseInference, batchSize: Int, maxPixels: Int,
                  reporter: Reporter, onPrediction: (DensePrediction<Prediction>) throws -> Void) throws -> (metrics: Metrics, skipped: [SkippedInput])
}

extension DenseTaskEvaluation {
    public func note(inference: DenseInference) -> String? { nil }

    /// A saved head's evaluation on `dataset`, in `run` when given: the head checked against the
    /// data, then against the model `load` gives (recipe, backbone fingerprint); the model
    /// (`modelID`, `threads`), the data and the evaluation note recorded in one run.json write;
    /// `ready` is called then, before the evaluation.
    public func evaluateSaved(_ head: Head, on dataset: Data, model load: () throws -> DINOv3Model, modelID: String, threads: Int,
                              inference: DenseInference, run: RunFolder?, maxPixels: Int, reporter: Reporter,
                              ready: () -> Void = {}) throws -> (metrics: Metrics, skipped: [SkippedInput]) {
        try check(head, against: dataset, reporter: reporter)
        let model = try load()
        try head.metadata.checkCompatible(recipe: head.metadata.recipe(), backboneFingerprint: model.fingerprint)
        try run?.update {
            $0.record(model: model, id: modelID, threads: threads)
            $0.data = .dense(root: dataset.root, [("val", dataset)])
            if let note = note(inference: inference) { $0.notes["evaluation"] = note }
        }
        ready()
        return try evaluate(head, model: model, dataset: dataset, inference: inference, batchSize: 8, maxPixels: maxPixels,
                            reporter: reporter) { _ in }
    }
}

/// The val split of a dense data set.
public enum DenseSplits {
    /// A dense run's val split, or nil (noted) when the data set has none; any other problem with
    /// the val split (unreadable folder, bad class list) is an error, not "no val split".
    public static func optionalVal<D>(reporter: Reporter, _ load: () throws -> D) throws -> D? {
        do { return try load() } catch let DatasetError.missingSplit(_, path, _) {
            reporter.note("no val split (\(shown(path)) does not exist): the head is trained but not evaluated")
            return nil
        }
    }
}
