import Backbone
import Foundation
import Images
import Support

/// Runs the keypoint-correspondence protocol over SPair pairs: each image's last-block patch
/// tokens once (kept while they fit the cache budget, least recently used dropped first), each
/// source keypoint matched in its target, PCK accumulated per category.
public enum CorrespondenceRun {
    public struct Outcome: Sendable {
        public var results: [KeypointPairResult]
        public var metrics: CorrespondenceResult
        /// Pairs that could not be scored (an image that does not decode), with the reason.
        public var skipped: [SkippedInput]
        /// Images loaded, through the backbone or from the disk cache (an image in several pairs
        /// counts once while its grid is held in memory).
        public var images: Int

        /// What the command prints: the PCK table, then the images loaded (from `cacheFolder`).
        public func summaryLines(cacheFolder: String?) -> [String] {
            [metrics.table(maxNameWidth: 14), "\(images) images loaded, through the backbone or from the feature cache\(cacheFolder.map { " \($0)" } ?? "")"]
        }
    }

    /// The pairs scored with `model`; image features come from `store` (the disk cache, or none).
    public static func run(pairs: [KeypointPair], model: DINOv3Model, settings: CorrespondenceSettings, store: KeypointGridStore,
                           reporter: Reporter, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> Outcome {
        guard settings.size % model.config.patchSize == 0 else {
            throw TrainingError.badOption("--size \(settings.size) is not a multiple of the patch size \(model.config.patchSize)")
        }
        var cache = FeatureGridCache(budgetBytes: settings.cacheMegabytes << 20)
        var accumulator = CorrespondenceAccumulator()
        var results: [KeypointPairResult] = [], skipped: [SkippedInput] = []
        let progress = reporter.task("matching keypoints", total: pairs.count, unit: "pairs")
        for (index, pair) in pairs.enumerated() {
            do {
                func grid(_ path: String) throws -> KeypointFeatureGrid {
                    try cache.grid(path) { try store.grid(of: $0, model: model, size: settings.size, maxPixels: maxPixels, reporter: reporter) }
                }
                let (source, target) = (try grid(pair.sourceImage), try grid(pair.targetImage))
                let result = try match(pair, source: source, target: target, window: settings.softArgmaxWindow)
                try accumulator.update(result)
                results.append(result)
            } catch {
                skipped.append(SkippedInput(index: index, path: pair.name, reason: "\(error)"))
            }
            progress.update(index + 1)
        }
        progress.finish(pairs.count)
        return Outcome(results: results, metrics: try accumulator.finish(), skipped: skipped, images: cache.misses)
    }

    /// Every keypoint of `pair` matched: predictions and errors in target pixels.
    public static func match(_ pair: KeypointPair, source: KeypointFeatureGrid, target: KeypointFeatureGrid,
                             window: Int?) throws -> KeypointPairResult {
        guard [source.imageWidth, source.imageHeight, target.imageWidth, target.imageHeight]
                == [pair.sourceSize.width, pair.sourceSize.height, pair.targetSize.width, pair.targetSize.height] else {
            throw TrainingError.incompatible("an image of the pair changed size after its annotation was checked")
        }
        let predictions = try KeypointMatching.match(pair.sourceKeypoints, source: source, target: target, window: window).map(\.point)
        let errors = zip(predictions, pair.targetKeypoints).map { p, t in ((p.x - t.x) * (p.x - t.x) + (p.y - t.y) * (p.y - t.y)).squareRoot() }
        return KeypointPairResult(name: pair.name, category: pair.category, predictions: predictions, errors: errors, boxSide: pair.boxSide)
    }

    /// An image's patch tokens [grid, grid, dim] and its size.
    public struct PatchTokens: Sendable {
        public var values: [Float]
        public var grid: Int, dim: Int, width: Int, height: Int
    }

    /// Probe3D's input: the image padded with white at its right and bottom to a square of its
    /// longer side, resized (bicubic, antialiased) to `size` x `size`, normalised with ImageNet's
    /// statistics; the last block's normed patch tokens.
    public static func patchTokens(of path: String, model: DINOv3Model, size: Int, maxPixels: Int) throws -> PatchTokens {
        let image = try ImageDecoder.decode(path: path, maxPixels: maxPixels)
        let side = max(image.width, image.height)
        guard side * side <= maxPixels else {
            throw TrainingError.incompatible("\(path): padded to a square it has \(side)x\(side) pixels, more than the \(maxPixels) allowed (--max-pixels)")
        }
        let square = try paddedSquare(image)
        let plane = try ImageResampler.resample(square, plan: ResamplePlan(outputWidth: size, outputHeight: size, bicubic: true))
        let pixels = Preprocessing(preset: .hf, size: size).normalise(plane, plane: size * size)
        let output = try model.forward(pixels: pixels, batch: 1, height: size, width: size)
        return PatchTokens(values: Array(output.patchTokens(0)), grid: output.gridWidth, dim: output.dim, width: image.width, height: image.height)
    }

    /// `image` on a white square of its longer side, at the top-left corner.
    static func paddedSquare(_ image: RGBImage) throws -> RGBImage {
        let side = max(image.width, image.height)
        guard side != image.width || side != image.height else { return image }
        var pixels = [UInt8](repeating: 255, count: side * side * 3)
        for y in 0..<image.height {
            pixels.replaceSubrange((y * side * 3)..<((y * side + image.width) * 3),
                                   with: image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)])
        }
        return try RGBImage(width: side, height: side, pixels: pixels)
    }
}

/// Feature grids by image path, within a byte budget (least recently used dropped first).
struct FeatureGridCache {
    let budgetBytes: Int
    private var grids: [String: KeypointFeatureGrid] = [:]
    private var order: [String] = []
    private(set) var misses = 0

    init(budgetBytes: Int) { self.budgetBytes = budgetBytes }

    mutating func grid(_ path: String, make: (String) throws -> KeypointFeatureGrid) throws -> KeypointFeatureGrid {
        if let hit = grids[path] {
            order.removeAll { $0 == path }
            order.append(path)
            return hit
        }
        let made = try make(path)
        misses += 1
        let bytes = made.features.count * MemoryLayout<Float>.size
        while !order.isEmpty, grids.values.reduce(bytes, { $0 + $1.features.count * MemoryLayout<Float>.size }) > budgetBytes {
            grids[order.removeFirst()] = nil
        }
        grids[path] = made
        order.append(path)
        return made
    }
}
