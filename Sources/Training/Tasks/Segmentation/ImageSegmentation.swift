import Backbone
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// Segmenting one image: with a head, its class mask and an overlay; without one, what the
/// frozen features see (the first three principal components as colours, and optionally a
/// k-means clustering of the patches). Images keep their aspect ratio (the native preset) and
/// results are upsampled to the original size.
public enum ImageSegmentation {
    public struct Result: Sendable {
        public var imageWidth: Int, imageHeight: Int
        public var inputWidth: Int, inputHeight: Int
        public var gridWidth: Int, gridHeight: Int
        /// Share of the image of each class (or cluster) present, largest first.
        public var areas: [(name: String, fraction: Double)]
        /// Variances of the PCA components (without a head).
        public var pcaVariances: [Float]
        /// Files written.
        public var files: [String]
    }

    /// The recipe of `head` (saved at `name`), refused unless it reads patch tokens.
    public static func recipe(of head: LinearSegmenter, named name: String) throws -> FeatureRecipe {
        let recipe = try head.metadata.recipe()
        guard recipe.tokens == .patch else {
            throw TrainingError.incompatible("\(name) was trained on \(recipe.tokens.rawValue) features, not patch tokens: it is not a segmentation head")
        }
        return recipe
    }

    /// Refuses a head (saved at `name`) that `model` cannot feed: another backbone's, or one
    /// expecting features of a width or of blocks this backbone does not have.
    public static func check(_ head: LinearSegmenter, named name: String, model: DINOv3Model) throws {
        let recipe = try head.metadata.recipe()
        guard head.metadata.backboneFingerprint == model.fingerprint else {
            throw HeadError.incompatibleFeatures(headRecipe: recipe.key, headFingerprint: head.metadata.backboneFingerprint,
                                                 givenRecipe: "", givenFingerprint: model.fingerprint)
        }
        guard head.dim == recipe.width(dim: model.config.hiddenSize),
              recipe.layerIndices(depth: model.config.numHiddenLayers).allSatisfy({ $0 < model.config.numHiddenLayers }) else {
            throw TrainingError.incompatible("\(name) expects \(head.dim)-wide features of blocks this backbone does not have")
        }
    }

    /// Each image at its own aspect ratio, short side `side`, with `recipe`'s statistics (a head's; nil: the default ones).
    public static func preprocessing(_ recipe: FeatureRecipe?, side: Int) -> Preprocessing {
        var preprocessing = recipe?.preprocessing ?? Preprocessing()
        (preprocessing.preset, preprocessing.size) = (.native, side)
        return preprocessing
    }

    /// The files `run` writes for `stem`: with a head, or the views without one.
    public static func outputFiles(stem: String, head: Bool, clusters: Bool) -> [String] {
        (head ? ["mask", "overlay"] : ["pca"] + (clusters ? ["clusters", "clusters-overlay"] : [])).map { fileName(stem, $0) }
    }

    private static func fileName(_ stem: String, _ suffix: String) -> String { "\(stem).\(suffix).png" }

    /// Segments the image at `path`, writing `<outputStem>.mask.png` and `.overlay.png` (with a
    /// head), or `.pca.png` and, with `clusters`, `.clusters.png` and `.clusters-overlay.png`.
    /// With `window`, the head runs by sliding window over the preprocessed image.
    public static func run(path: String, model: DINOv3Model, preprocessing: Preprocessing, head: LinearSegmenter?,
                           window: SlidingWindow? = nil, clusters: Int?, outputStem: String,
                           maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> Result {
        let image = try ImageDecoder.decode(path: path, maxPixels: maxPixels)
        let input = try preprocessing.apply(image)
        func file(_ suffix: String) -> String { fileName(outputStem, suffix) }
        if let head, let window {
            let layers = try head.metadata.recipe().layerIndices(depth: model.config.numHiddenLayers)
            let mask = try head.predict(window: window, model: model, layers: layers, pixels: input.pixels, height: input.height,
                                        width: input.width, outputHeight: image.height, outputWidth: image.width)
            var result = Result(imageWidth: image.width, imageHeight: image.height, inputWidth: input.width, inputHeight: input.height,
                                gridWidth: input.width / model.config.patchSize, gridHeight: input.height / model.config.patchSize,
                                areas: [], pcaVariances: [], files: [])
            try writeHeadResult(mask, head: head, image: image, into: &result, file: file)
            return result
        }
        // A head reads the blocks of its recipe (concatenated per patch); the views without one, the last block.
        let layers = try head.map { try $0.metadata.recipe().layerIndices(depth: model.config.numHiddenLayers) } ?? model.lastBlocks(1)
        // The command checked the short side; this image's aspect ratio may ask for up to 4x the patches.
        try ForwardMemory.checkOneImageFits(model, height: input.height, width: input.width, layers: layers.count)
        let output = try model.forward(pixels: input.pixels, batch: 1, height: input.height, width: input.width, layers: layers)
        let (gh, gw, d) = (output.gridHeight, output.gridWidth, output.dim * output.layers.count)
        let patches = output.concatenatedPatchTokens(0)
        var result = Result(imageWidth: image.width, imageHeight: image.height, inputWidth: input.width, inputHeight: input.height,
                            gridWidth: gw, gridHeight: gh, areas: [], pcaVariances: [], files: [])
        let upsampler = try BilinearUpsampler(inputHeight: gh, inputWidth: gw, outputHeight: image.height, outputWidth: image.width)
        if let head {
            let mask = try head.predict(features: patches, batch: 1, height: gh, width: gw,
                                        outputHeight: image.height, outputWidth: image.width)
            try writeHeadResult(mask, head: head, image: image, into: &result, file: file)
            return result
        }
        let pca = try PatchPCA(features: patches, count: gh * gw, dim: d)
        let colours = pca.colours(patches, count: gh * gw).map { Float($0) / 255 }
        let rgb = try upsampler.forward(colours, batch: 1, channels: 3).map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
        try PNGEncoder.write(RGBImage(width: image.width, height: image.height, pixels: rgb), to: file("pca"))
        result.pcaVariances = pca.variances
        result.files = [file("pca")]
        guard let clusters else { return result }
        // Cosine similarity to each centroid, upsampled, then the most similar centroid per pixel.
        let kmeans = try KMeans(vectors: patches, count: gh * gw, dim: d, k: clusters, seed: 0)
        let similarity = try upsampler.forward(kmeans.similarities(patches, count: gh * gw), batch: 1, channels: clusters)
        let mask = Softmax.argmax(similarity, classes: clusters).map { UInt8($0) }
        let names = (0..<clusters).map { "cluster \($0)" }
        let palette = Array(Palette.voc(count: clusters + 1).dropFirst(3))  // skip black
        try writeMask(mask, image: image, palette: palette, names: names, mask: file("clusters"), overlay: file("clusters-overlay"))
        result.areas = SegmentationRendering.classAreas(mask, classes: clusters).map { (names[$0.label], $0.fraction) }
        result.files += [file("clusters"), file("clusters-overlay")]
        return result
    }

    /// Writes a head's mask and overlay and records the class areas.
    private static func writeHeadResult(_ mask: [UInt8], head: LinearSegmenter, image: RGBImage, into result: inout Result,
                                        file: (String) -> String) throws {
        let names = head.metadata.classNames.isEmpty ? (0..<head.classes).map { "class \($0)" } : head.metadata.classNames
        let palette = head.metadata.palette ?? Palette.voc(count: names.count)
        try writeMask(mask, image: image, palette: palette, names: names, mask: file("mask"), overlay: file("overlay"))
        result.areas = SegmentationRendering.classAreas(mask, classes: names.count).map { (names[$0.label], $0.fraction) }
        result.files = [file("mask"), file("overlay")]
    }

    private static func writeMask(_ mask: [UInt8], image: RGBImage, palette: [UInt8], names: [String], mask maskPath: String,
                                  overlay: String) throws {
        try PNGEncoder.writeIndexed(mask, width: image.width, height: image.height, palette: Array(palette.prefix(768)), to: maskPath)
        try PNGEncoder.write(SegmentationRendering.overlay(image: image, mask: mask, palette: palette, classNames: names), to: overlay)
    }
}

extension LinearSegmenter {
    /// The class of every pixel of a preprocessed image [3, height, width] at `outputHeight` x
    /// `outputWidth` by `window`: the window outputs averaged, upsampled, argmax per pixel.
    public func predict(window: SlidingWindow, model: DINOv3Model, layers: [Int], pixels: [Float], height: Int, width: Int,
                        outputHeight: Int, outputWidth: Int, batchSize: Int = 8) throws -> [UInt8] {
        let averaged = try window.outputs(head: self, model: model, layers: layers, pixels: pixels, height: height, width: width,
                                          batchSize: batchSize)
        return try Self.upsampledArgmax(averaged, batch: 1, height: height, width: width, classes: classes,
                                        outputHeight: outputHeight, outputWidth: outputWidth)
    }
}
