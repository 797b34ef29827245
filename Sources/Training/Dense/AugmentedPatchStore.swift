import Backbone
import Datasets
import Foundation
import Heads
import Images
import SafeTensors
import Support

extension PatchFeatureStore {
    /// A patch store of `views` augmented views per training pair (Meta's training augmentation,
    /// `augmentation`), through the blocks `layers`: view v of pair i draws from the stream
    /// (seed, i, v), so the store does not depend on batching. Pairs whose image or mask cannot
    /// be used are skipped and reported. Written atomically to `path`. With `positions`, only those
    /// pairs (a part of the store: skipped inputs are numbered within it, views drawn as in the whole).
    public static func buildAugmented(model: DINOv3Model, dataset: SegmentationDataset, augmentation: SegmentationAugmentation,
                                      views: Int, seed: UInt64, preprocessing: Preprocessing, layers: [Int], batchSize: Int,
                                      to path: String, positions: Range<Int>? = nil, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                                      reporter: Reporter = SilentReporter()) throws -> PatchFeatureStore {
        let positions = positions ?? dataset.samples.indices
        let size = augmentation.size
        let spools = try Spools(path, targetType: UInt8.storeType)
        defer { spools.discard() }
        var skipped: [SkippedInput] = []
        var pending: [(pixels: [Float], labels: [UInt8])] = []
        var count = 0, grid = (0, 0), dim = 0
        func flush() throws {
            guard !pending.isEmpty else { return }
            let out = try model.forward(pixels: Array(pending.map(\.pixels).joined()), batch: pending.count, height: size, width: size, layers: layers)
            (grid, dim) = ((out.gridHeight, out.gridWidth), out.dim * out.layers.count)
            for (b, view) in pending.enumerated() {
                try spools.append(tokens: out.concatenatedPatchTokens(b), targets: view.labels)
            }
            count += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        let task = reporter.task("augment patches (\(views) views per image)", total: positions.count, unit: "images")
        for i in positions {
            let sample = dataset.samples[i]
            defer { task.update(i + 1 - positions.lowerBound) }
            let image: RGBImage, mask: LabelMask
            do {
                image = try ImageDecoder.decode(path: sample.image, maxPixels: maxPixels)
                mask = try dataset.loadMask(for: sample)
                guard image.width == mask.width, image.height == mask.height else {
                    throw DatasetError.sizeMismatch(image: sample.image, mask: sample.mask, imageSize: [image.width, image.height],
                                                    maskSize: [mask.width, mask.height])
                }
            } catch {
                skipped.append(SkippedInput(index: i - positions.lowerBound, path: sample.image, reason: "\(error)"))
                continue
            }
            let made: [SegmentationAugmentation.View]
            do {
                made = try (0..<views).map { v in
                    var random = SeededRandom(seed: seed, stream: [UInt64(i), UInt64(v)])
                    return try augmentation.view(image: image, mask: mask, random: &random)
                }
            } catch {
                skipped.append(SkippedInput(index: i - positions.lowerBound, path: sample.image, reason: "\(error)"))
                continue
            }
            for view in made {
                pending.append((view.pixels(preprocessing), view.labels))
                if pending.count >= batchSize { try flush() }
            }
        }
        try flush()
        task.finish(positions.count, note: skipped.isEmpty ? "" : "\(skipped.count) skipped")
        guard count > 0 else {
            throw TrainingError.badOption("no usable image/mask pair among \(positions.count); see the skipped list: \(skipped.prefix(3).map { "\($0.path): \($0.reason)" }.joined(separator: "; "))")
        }
        return try finish(spools, count: count, grid: grid, dim: dim, resolution: size,
                          views: ["augment": "\(views)"], skipped: skipped, model: model, to: path)
    }
}
