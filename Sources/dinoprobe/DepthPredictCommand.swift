import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support
import Training

struct DepthPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Predict depth with a head saved by train-depth: a colour PNG for people and a 16-bit PNG in millimetres for programs, per image.",
        discussion: """
        Per image, below --out at the image's own path: <stem>.depth.png (plasma colours over the image's \
        predicted range, near dark, far bright) and <stem>.depth16.png (16-bit greyscale, depth in millimetres, \
        as NYU's depth files; read it with eval-depth --depth-scale 1000). Predictions are at the image's size, \
        flip-averaged unless --no-tta. Existing outputs are replaced only with --overwrite.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Image files, or folders searched recursively for images.")
    var images: [String]

    @Option(help: "Head saved by train-depth.")
    var head: String

    @Option(help: "Output folder (per-image files mirror the images' paths below it).")
    var out: String = "depth-out"

    @Flag(help: "Replace outputs of an earlier run in --out.")
    var overwrite = false

    @Flag(help: "No flip test-time augmentation.")
    var noTTA = false

    @OptionGroup var inferenceOptions: InferenceOptions
    @OptionGroup var pixelLimit: PixelLimitOption

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
    }

    func run() throws {
        let depthHead = try DepthHead.load(from: head)
        let listing = try ImageFiles.expand(images)
        let names = ImageFiles.outputNames(for: listing.images)
        let files = names.flatMap { ["\($0).depth.png", "\($0).depth16.png"] }
        let run = try RunFolder.open(out, prefix: "depth", overwrite: overwrite, guarding: files, command: self)
        defer { run.close() }
        let model = try modelOptions.load(quiet: true)
        try depthHead.metadata.checkCompatible(recipe: depthHead.metadata.recipe(), backboneFingerprint: model.fingerprint)
        try run.update { $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount) }
        let inference = inferenceOptions.resolved(headSize: depthHead.metadata.inputResolution ?? 448)
        var failures = listing.problems.count
        for problem in listing.problems { Console.err("error: \(problem)") }
        var written: [String] = []
        let staging = try run.staging()
        try ImageDepth.run(head: depthHead, model: model, paths: listing.images, stems: names.map { staging + "/" + $0 }, inference: inference,
                           flip: !noTTA, maxPixels: pixelLimit.maxPixels, onFailure: { failure in
            failures += 1
            Console.err("error: \(failure)")
        }) { index, result in
            say(String(format: "%@: %dx%d, depth %.2f to %.2f m", shown(listing.images[index]), result.width, result.height, result.nearest, result.farthest))
            written += result.files.map { ByteText.relative($0, to: staging) ?? $0 }
        }
        try run.publish(outputs: written)
        if !written.isEmpty { say("wrote \(run.path): \(written.count) files, run.json") }
        if failures > 0 { throw ExitCode(1) }
    }
}
