import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support
import Training

struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment images with a saved head (mask + overlay PNGs, class areas), or show what the frozen features see (PCA colours, k-means clusters).",
        discussion: examples("segment photo.jpg --head runs/seg/head.safetensors --out seg-out", "segment photos/ --clusters 5", then: """
        Images run at a size that keeps their aspect ratio (short side --size, sides rounded to \
        multiples of 16), with the head's normalisation statistics; results are upsampled to the \
        original size. Without --head: <stem>.pca.png maps the first three principal components of the \
        patch features to RGB; --clusters K adds <stem>.clusters.png and an overlay of a k-means \
        segmentation of the patches.
        """))

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Image files, or folders searched recursively for images.", completion: .file())
    var images: [String]

    @Option(help: "Head saved by train-seg.", completion: .file(extensions: ["safetensors"]))
    var head: String?

    @Option(help: "Output folder (per-image files mirror the images' paths below it).", completion: .directory)
    var out: String = "segment-out"

    @Flag(help: "Replace the results of an earlier run of this command in --out.")
    var overwrite = false

    @Option(help: "Short side of the input in pixels (default: the head's size, else 448).")
    var size: Int?

    @Option(help: "Also cluster the patches into K groups (k-means on normalised features), without a head.")
    var clusters: Int?

    @OptionGroup var pixelLimit: PixelLimitOption

    @OptionGroup var inferenceOptions: InferenceOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
        try Check.optionalRange(clusters, 2...64, "--clusters")
        if let side = size { try Check.multiple(side, of: 16, 16...4096, "--size") }
    }

    func run() throws {
        let segmenter = try head.map { try LinearSegmenter.load(from: $0) }
        // The head's recipe gives the normalisation and the default size; segment keeps each
        // image's aspect ratio (native preset) rather than the square training input.
        let recipe = try segmenter.map { try $0.metadata.recipe() }
        if let recipe, recipe.tokens != .patch {
            throw ValidationError("\(head ?? "") was trained on \(recipe.tokens.rawValue) features, not patch tokens: it is not a segmentation head")
        }
        let side = size ?? recipe?.preprocessing.size ?? 448
        let listing = try ImageFiles.expand(images)
        let names = ImageFiles.outputNames(for: listing.images)
        let files = names.flatMap { ImageSegmentation.outputFiles(stem: $0, head: segmenter != nil, clusters: clusters != nil) }
        let run = try RunFolder.open(out, prefix: "segment", overwrite: overwrite, guarding: files, command: self,
                                     resolved: ["size": side])
        defer { run.close() }
        let model = try modelOptions.load(quiet: true)
        try ForwardMemory.checkOneImageFits(model, height: side, width: side)  // the short side: a lower bound
        try run.update { $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount) }
        if let segmenter, let head {
            guard segmenter.metadata.backboneFingerprint == model.fingerprint else {
                throw HeadError.incompatibleFeatures(headRecipe: recipe?.key ?? "", headFingerprint: segmenter.metadata.backboneFingerprint,
                                                     givenRecipe: "", givenFingerprint: model.fingerprint)
            }
            guard let recipe, segmenter.dim == recipe.width(dim: model.config.hiddenSize),
                  recipe.layerIndices(depth: model.config.numHiddenLayers).allSatisfy({ $0 < model.config.numHiddenLayers }) else {
                throw ValidationError("\(head) expects \(segmenter.dim)-wide features of blocks this backbone does not have")
            }
        }
        var preprocessing = recipe?.preprocessing ?? Preprocessing()
        preprocessing.preset = .native
        preprocessing.size = side
        var failures = listing.problems.count
        for problem in listing.problems { Console.err("error: \(problem)") }
        var written: [String] = []
        for (path, name) in zip(listing.images, names) {
            do {
                let stem = try run.staging() + "/" + name
                try FileSystem.createDirectories(ByteText.parent(of: stem))  // the names' own bytes (PathCodec)
                var window: SlidingWindow?
                if case let .slide(w) = inferenceOptions.resolved(headSize: side) { window = w }
                let r = try ImageSegmentation.run(path: path, model: model, preprocessing: preprocessing, head: segmenter, window: window,
                                                  clusters: clusters, outputStem: stem, maxPixels: pixelLimit.maxPixels)
                say("\(shown(path)): \(r.imageWidth)x\(r.imageHeight), features \(r.gridHeight)x\(r.gridWidth) at \(r.inputWidth)x\(r.inputHeight)")
                if !r.pcaVariances.isEmpty {
                    say("  PCA of \(r.gridHeight * r.gridWidth) patches (component variances \(r.pcaVariances.map { String(format: "%.1f", $0) }.joined(separator: ", ")))")
                }
                for area in r.areas { say(String(format: "  %6.2f%%  %@", 100 * area.fraction, shown(area.name))) }
                let staging = try run.staging()
                let names = r.files.map { ByteText.relative($0, to: staging) ?? $0 }
                say("  made \(names.map { run.path + "/" + $0 }.joined(separator: ", "))")
                written += names
            } catch {
                failures += 1
                Console.err("error: \(error)")
            }
        }
        try run.publishAndSay(outputs: written)
        if failures > 0 { throw ExitCode(1) }
    }
}
