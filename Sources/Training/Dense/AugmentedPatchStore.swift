import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support

extension PatchFeatureStore {
    /// A patch store of `augment.views` augmented views per training pair (the task's training
    /// augmentation), through the blocks `layers`: view v of pair i draws from the stream
    /// (seed, i, v), so the store does not depend on batching. Pairs whose image or target cannot
    /// be used are skipped and reported. Written atomically to `path`. With `positions`, only those
    /// pairs (a part of the store: skipped inputs are numbered within it, views drawn as in the whole).
    /// `metadata`: recorded besides.
    public static func buildAugmented<D: DenseDataset>(model: DINOv3Model, dataset: D, views augment: AugmentedDenseViews<D.Target>,
                                                       preprocessing: Preprocessing, layers: [Int], batchSize: Int,
                                                       to path: String, positions: Range<Int>? = nil, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                                                       metadata: [String: String] = [:], reporter: Reporter = SilentReporter()) throws -> PatchFeatureStore {
        let positions = positions ?? 0..<dataset.count
        let (augmentation, views, seed) = (augment.augmentation, augment.views, augment.seed)
        let size = augmentation.size
        let writer = try writer(path, targetType: D.Target.Value.storeType, dim: model.config.hiddenSize * layers.count, resolution: size,
                                grid: size / model.config.patchSize, inputs: positions.count, views: views)
        defer { writer.discard() }
        var skipped: [SkippedInput] = []
        var pending: [(path: String, input: Int, pixels: [Float], labels: [D.Target.Value])] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let out = try model.forward(pixels: Array(pending.map(\.pixels).joined()), batch: pending.count, height: size, width: size, layers: layers)
            for (b, view) in pending.enumerated() { try writer.append(path: view.path, input: view.input, out, b, targets: view.labels) }
            pending.removeAll(keepingCapacity: true)
        }
        let task = reporter.task("augment patches (\(views) views per image)", total: positions.count, unit: "images")
        for i in positions {
            let imagePath = dataset.imagePath(i)
            defer { task.update(i + 1 - positions.lowerBound) }
            let made: [(pixels: [Float], targets: [D.Target.Value])]
            do {
                let image = try ImageDecoder.decode(path: imagePath, maxPixels: maxPixels)
                let target = try dataset.loadTarget(i)
                guard image.width == target.width, image.height == target.height else {
                    throw DatasetError.sizeMismatch(image: imagePath, mask: dataset.targetPath(i), imageSize: [image.width, image.height],
                                                    maskSize: [target.width, target.height])
                }
                made = try (0..<views).map { v in
                    var random = SeededRandom(seed: seed, stream: [UInt64(i), UInt64(v)])
                    return try augmentation.view(image: image, target: target, preprocessing: preprocessing, random: &random)
                }
            } catch {
                skipped.append(SkippedInput(index: i - positions.lowerBound, path: imagePath, reason: "\(error)"))
                continue
            }
            for view in made {
                pending.append((imagePath, i - positions.lowerBound, view.pixels, view.targets))
                if pending.count >= batchSize { try flush() }
            }
        }
        try flush()
        task.finish(positions.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        return try finish(writer, of: positions.count, skipped: skipped, source: FeatureCache.source(model, preprocessing),
                          metadata: metadata.merging(["augment": "\(views)"]) { $1 })
    }
}
