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
        let recipe = try segmenter.map { try ImageSegmentation.recipe(of: $0, named: head ?? "") }
        let side = size ?? recipe?.preprocessing.size ?? 448
        let window: SlidingWindow? = if case let .slide(w) = try inferenceOptions.resolved(headSize: side) { w } else { nil }
        try writePerImage(images, out: out, prefix: "segment", overwrite: overwrite, command: self, modelOptions: modelOptions, resolved: ["size": side],
                          files: { ImageSegmentation.outputFiles(stem: $0, head: segmenter != nil, clusters: clusters != nil) }, check: { model in
            try ForwardMemory.checkOneImageFits(model, height: side, width: side)  // the short side: a lower bound
            if let segmenter { try ImageSegmentation.check(segmenter, named: head ?? "", model: model) }
        }, publish: { try $0.publishAndSay(outputs: $1) }) { run, model, paths, stems, fail in
            let preprocessing = ImageSegmentation.preprocessing(recipe, side: side), staging = try run.staging()
            return zip(paths, stems).flatMap { path, stem -> [String] in
                do {
                    try FileSystem.createDirectories(ByteText.parent(of: stem))  // the names' own bytes (PathCodec)
                    let r = try ImageSegmentation.run(path: path, model: model, preprocessing: preprocessing, head: segmenter, window: window,
                                                      clusters: clusters, outputStem: stem, maxPixels: pixelLimit.maxPixels)
                    say("\(shown(path)): \(r.imageWidth)x\(r.imageHeight), features \(r.gridHeight)x\(r.gridWidth) at \(r.inputWidth)x\(r.inputHeight)")
                    if !r.pcaVariances.isEmpty {
                        say("  PCA of \(r.gridHeight * r.gridWidth) patches (component variances \(r.pcaVariances.map { String(format: "%.1f", $0) }.joined(separator: ", ")))")
                    }
                    for area in r.areas { say(String(format: "  %6.2f%%  %@", 100 * area.fraction, shown(area.name))) }
                    say("  made \(r.files.map { run.path + "/" + (ByteText.relative($0, to: staging) ?? $0) }.joined(separator: ", "))")
                    return r.files
                } catch {
                    fail(error)
                    return []
                }
            }
        }
    }
}
