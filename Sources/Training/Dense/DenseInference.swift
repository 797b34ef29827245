import Backbone
import Foundation
import Heads
import Images
import Support

/// How a dense head (segmentation, depth) is applied to a whole image: at once (the image resized
/// to the head's square size), or by Meta's sliding window (the image keeps its aspect ratio with its short
/// side at the head's size, square crops overlap by `crop - stride`, and the logits of
/// overlapping crops are averaged, as mmsegmentation's `slide_inference`).
public enum DenseInference: Sendable, Equatable {
    case whole
    case slide(SlidingWindow)

    public var name: String {
        switch self {
        case .whole: return "whole"
        case let .slide(w): return "slide (crop \(w.crop), stride \(w.stride))"
        }
    }
}

extension DenseInference {
    /// Runs `head` (its own recipe: resolution, statistics, blocks) on every image of `paths`
    /// and hands `body` each image's outputs [height, width, channels]: on the patch grid
    /// (whole), or averaged over the windows at the preprocessed image's size (slide). The caller
    /// upsamples them to its label size. Images that cannot be used go to `onSkip`. With
    /// `mirrored`, every image is mirrored left-right first (the outputs stay mirrored).
    public func run<Head: DenseHead>(head: Head, model: DINOv3Model, paths: [String], batchSize: Int = 8,
                                     maxPixels: Int = ImageDecoder.defaultMaxPixels, mirrored: Bool = false,
                                     onSkip: (SkippedInput) -> Void, onProgress: (Int) -> Void = { _ in },
                                     _ body: (_ index: Int, _ outputs: [Float], _ height: Int, _ width: Int) throws -> Void) throws {
        let recipe = try head.metadata.recipe()
        let layers = recipe.layerIndices(depth: model.config.numHiddenLayers)
        switch self {
        case .whole:
            let extractor = try FeatureExtractor(model: model, preprocessing: recipe.preprocessing, batchSize: batchSize,
                                                 layers: layers, maxPixels: maxPixels, flipped: mirrored)
            try extractor.run(paths: paths, onBatch: { batch in
                let out = batch.output
                for (b, index) in batch.indices.enumerated() {
                    try body(index, try head.logits(features: out.concatenatedPatchTokens(b), batch: 1, height: out.gridHeight,
                                                    width: out.gridWidth), out.gridHeight, out.gridWidth)
                }
            }, onSkip: onSkip, onProgress: onProgress)
        case let .slide(window):
            // The image keeps its aspect ratio, short side at the head's size.
            var preprocessing = recipe.preprocessing
            preprocessing.preset = .native
            preprocessing.patchSize = model.config.patchSize
            for (index, path) in paths.enumerated() {
                defer { onProgress(index + 1) }
                let input: (pixels: [Float], height: Int, width: Int)
                do { input = try preprocessing.prepare(file: ImageDecoder.open(path), maxPixels: maxPixels, mirrored: mirrored) } catch {
                    onSkip(SkippedInput(index: index, path: path, reason: "\(error)"))
                    continue
                }
                try body(index, try window.outputs(head: head, model: model, layers: layers, pixels: input.pixels, height: input.height,
                                                   width: input.width, batchSize: batchSize), input.height, input.width)
            }
        }
    }
}
