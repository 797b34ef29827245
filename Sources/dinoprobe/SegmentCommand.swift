import ArgumentParser
import Backbone
import COpenBLAS
import Foundation
import Heads
import Training
import Images

struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment images with a saved head (mask + overlay PNGs, class areas), or show what the frozen features see (PCA colours, k-means clusters).",
        discussion: """
        Images run at a resolution that keeps their aspect ratio (short side --resolution, sides rounded \
        to multiples of 16); results are upsampled to the original size. Without --head: <stem>.pca.png \
        maps the first three principal components of the patch features to RGB; --clusters K adds \
        <stem>.clusters.png and an overlay of a k-means segmentation of the patches.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Image files.")
    var images: [String]

    @Option(help: "Head saved by train-seg.")
    var head: String?

    @Option(help: "Output folder.")
    var out: String = "segment-out"

    @Option(help: "Short side of the input in pixels (default: the head's resolution, else 448).")
    var resolution: Int?

    @Option(help: "Also cluster the patches into K groups (k-means on normalised features), without a head.")
    var clusters: Int?

    @Option(help: "Refuse images with more pixels than this.")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
        try Check.optionalRange(clusters, 2...64, "--clusters")
        if let resolution { try Check.multiple(resolution, of: 16, 16...4096, "--resolution") }
        try Check.range(maxPixels, 1...ImageDecoder.maxPixelsLimit, "--max-pixels")
    }

    func run() throws {
        let segmenter = try head.map { try LinearSegmenter.load(from: $0) }
        let side = resolution ?? segmenter?.metadata.inputResolution ?? 448
        guard side > 0, side % 16 == 0 else { throw ValidationError("--resolution must be a positive multiple of 16") }
        let run = try RunFolder(out, prefix: "segment", overwrite: true, guarding: nil)
        defer { run.close() }
        let model = try modelOptions.load(quiet: true)
        if let segmenter, let head {
            try segmenter.metadata.checkCompatible(featureRecipe: segmenter.metadata.featureRecipe, backboneFingerprint: model.fingerprint)
            guard segmenter.dim == model.config.hiddenSize else { throw ValidationError("\(head) expects \(segmenter.dim)-wide features") }
        }
        let folder = run.url
        let preprocessing = Preprocessing(preset: .native, size: side)
        var failures = 0
        for path in images {
            do {
                try segment(path, model: model, preprocessing: preprocessing, segmenter: segmenter, folder: folder)
            } catch {
                failures += 1
                stderrPrint("error: \(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    func segment(_ path: String, model: DINOv3Model, preprocessing: Preprocessing, segmenter: LinearSegmenter?, folder: URL) throws {
        let image = try ImageDecoder.decode(path: path, maxPixels: maxPixels)
        let input = try preprocessing.apply(image)
        let output = try model.forward(pixels: input.pixels, batch: 1, height: input.height, width: input.width)
        let (gh, gw, d) = (output.gridHeight, output.gridWidth, output.dim)
        let patches = Array(output.patchTokens(0))
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        func file(_ suffix: String) -> String { folder.appendingPathComponent("\(stem).\(suffix).png").path }
        say("\(path): \(image.width)x\(image.height), features \(gh)x\(gw) at \(input.width)x\(input.height)")
        if let segmenter {
            let mask = try segmenter.predict(features: patches, batch: 1, height: gh, width: gw,
                                             outputHeight: image.height, outputWidth: image.width)
            let names = segmenter.metadata.classNames
            let palette = segmenter.metadata.palette ?? SegmentationRendering.palette(count: names.count)
            try PNGEncoder.writeIndexed(mask, width: image.width, height: image.height, palette: Array(palette.prefix(768)), to: file("mask"))
            try PNGEncoder.write(SegmentationRendering.overlay(image: image, mask: mask, palette: palette, classNames: names), to: file("overlay"))
            for area in SegmentationRendering.classAreas(mask, classes: names.count) {
                say(String(format: "  %6.2f%%  %@", 100 * area.fraction, names[area.label]))
            }
            say("  wrote \(file("mask")), \(file("overlay"))")
            return
        }
        let pca = try PatchPCA(features: patches, count: gh * gw, dim: d)
        let colours = pca.colours(patches, count: gh * gw).map { Float($0) / 255 }
        let upsampled = try SegmentationRendering.upsample(colours, gridHeight: gh, gridWidth: gw, channels: 3,
                                                           height: image.height, width: image.width)
        let rgb = upsampled.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
        try PNGEncoder.write(RGBImage(width: image.width, height: image.height, pixels: rgb), to: file("pca"))
        let explained = pca.variances.map { String(format: "%.1f", $0) }.joined(separator: ", ")
        say("  PCA of \(gh * gw) patches (component variances \(explained)): wrote \(file("pca"))")
        guard let clusters else { return }
        let kmeans = try KMeans(vectors: patches, count: gh * gw, dim: d, k: clusters, seed: 0)
        // Cosine similarity to each centroid, upsampled, then the nearest centroid per pixel.
        let normalised = KMeans.normalised(patches, count: gh * gw, dim: d)
        var similarity = [Float](repeating: 0, count: gh * gw * clusters)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(gh * gw), Int32(clusters), Int32(d), 1, normalised, Int32(d),
                    kmeans.centroids, Int32(d), 0, &similarity, Int32(clusters))
        let up = try SegmentationRendering.upsample(similarity, gridHeight: gh, gridWidth: gw, channels: clusters,
                                                    height: image.height, width: image.width)
        var mask = [UInt8](repeating: 0, count: image.width * image.height)
        for i in 0..<mask.count {
            var best = 0
            for c in 1..<clusters where up[i * clusters + c] > up[i * clusters + best] { best = c }
            mask[i] = UInt8(best)
        }
        let names = (0..<clusters).map { "cluster \($0)" }
        let palette = SegmentationRendering.palette(count: clusters + 1).dropFirst(3).map { $0 }  // skip black
        try PNGEncoder.writeIndexed(mask, width: image.width, height: image.height, palette: palette, to: file("clusters"))
        try PNGEncoder.write(SegmentationRendering.overlay(image: image, mask: mask, palette: palette, classNames: names), to: file("clusters-overlay"))
        for area in SegmentationRendering.classAreas(mask, classes: clusters) {
            say(String(format: "  %6.2f%%  cluster %d", 100 * area.fraction, area.label))
        }
        say("  wrote \(file("clusters")), \(file("clusters-overlay"))")
    }
}
