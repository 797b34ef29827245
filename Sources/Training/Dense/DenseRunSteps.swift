import Backbone
import Heads
import Foundation
import Support

extension RunRecord.DataRecord {
    /// The named splits of a dense data set under `root` (image and target file of every pair, in
    /// order); a nil split (a data set without val) is left out.
    public static func dense<D: DenseDataset>(root: String, _ splits: [(name: String, dataset: D?)]) -> Self {
        Self(root: root, splits: splits.reduce(into: [:]) { listed, split in
            guard let d = split.dataset else { return }
            listed[split.name] = .init(paths: (0..<d.count).flatMap { [d.imagePath($0), d.targetPath($0)] })
        })
    }
}

/// A dense run's training features: the patch store (cached, or temporary under the run's folder),
/// the key naming it in saved training states, and, with augmented views, a note describing them.
public struct DenseTrainingStore {
    public let store: PatchFeatureStore
    public let key: String
    public let augmentationNote: String?

    /// Extracts or loads `dataset`'s store (`augmentation` names the augmented views' pipeline in the note).
    public init<D: DenseDataset>(model: DINOv3Model, dataset: D, recipe: FeatureRecipe, flip: Bool, augment: AugmentedDenseViews<D.Target>?,
                                 augmentation: String, batchSize: Int, cacheFolder: String?, scratchFolder: String, maxPixels: Int,
                                 reporter: Reporter) throws {
        let start = Date()
        store = try DenseStore.obtain(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment, batchSize: batchSize,
                                      cacheFolder: cacheFolder, scratchFolder: scratchFolder, maxPixels: maxPixels, reporter: reporter)
        key = DenseStore.key(model: model, dataset: dataset, recipe: recipe, flip: flip, augment: augment)
        augmentationNote = augment.map { [store] in
            "\($0.views) views per training pair (\(augmentation)): \(store.count) views, \(String(format: "%.1f", Date().timeIntervalSince(start))) s to extract or load"
        }
    }
}
