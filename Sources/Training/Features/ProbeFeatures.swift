import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support

/// The train and val features an image-level probe (train-linear, train-logreg, k-NN) starts from.
public enum ProbeFeatures {
    /// Train and val features from two `dinoprobe extract` files: val read with train's classes
    /// and checked to come from the same backbone and recipe.
    public static func read(trainFile: String, valFile: String) throws -> (train: FeatureSplit, val: FeatureSplit) {
        let train = try FeaturesFile.read(path: trainFile)
        let val = try FeaturesFile.read(path: valFile, classNames: train.classNames)
        try train.checkMatches(val)
        return (train, val)
    }

    /// The (cached) features of a train and a val split through `model`, blocks `layers`; see
    /// `FeatureCache.split(of:)`.
    public static func extract(train: ClassificationDataset, val: ClassificationDataset, cache: FeatureCache, model: DINOv3Model,
                               backboneID: String, preprocessing: Preprocessing, layers: [Int], batchSize: Int, maxPixels: Int,
                               reporter: Reporter) throws -> (train: FeatureSplit, val: FeatureSplit) {
        let one = { (dataset: ClassificationDataset) in
            try cache.split(of: dataset, model: model, backboneID: backboneID, preprocessing: preprocessing, layers: layers,
                            batchSize: batchSize, maxPixels: maxPixels, reporter: reporter)
        }
        return (try one(train), try one(val))
    }

    /// `views` augmented views (Meta's training transform at `preprocessing`'s size) of the images
    /// of `dataset` behind `train`'s rows, cached in `cache` (see `FeatureCache.augmentedViews`),
    /// with the note that describes them.
    public static func augmentedViews(of dataset: ClassificationDataset, train: FeatureSplit, cache: FeatureCache, model: DINOv3Model,
                                      preprocessing: Preprocessing, layers: [Int], views: Int, seed: UInt64, batchSize: Int, maxPixels: Int,
                                      reporter: Reporter) throws -> (views: AugmentedViews, note: String) {
        let crop = RandomResizedCrop(size: preprocessing.size)
        let start = Date()
        let augmented = try cache.augmentedViews(of: dataset, train: train, model: model, preprocessing: preprocessing, crop: crop, views: views,
                                                 seed: seed, layers: layers, batchSize: batchSize, maxPixels: maxPixels, reporter: reporter)
        return (augmented, augmentationNote(views: views, crop: crop, rows: augmented.features.count, seconds: Date().timeIntervalSince(start)))
    }

    /// The line that describes augmented training views (for progress and `run.json`'s notes).
    public static func augmentationNote(views: Int, crop: RandomResizedCrop, rows: Int, seconds: Double) -> String {
        "\(views) views per training image (RandomResizedCrop \(crop.size), scale 0.08-1, ratio 3/4-4/3, bicubic, flip 0.5): "
            + "\(rows) rows, \(String(format: "%.1f", seconds)) s to extract or load"
    }
}
