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
        try writePerImage(images, out: out, prefix: "depth", overwrite: overwrite, command: self, modelOptions: modelOptions,
                          files: { ["\($0).depth.png", "\($0).depth16.png"] }, check: { model in
            try depthHead.metadata.checkCompatible(recipe: depthHead.metadata.recipe(), backboneFingerprint: model.fingerprint)
        }, publish: { run, written in
            try run.publish(outputs: written)
            if !written.isEmpty { say("wrote \(run.path): \(written.count) files, run.json") }
        }) { _, model, paths, stems, fail in
            var written: [String] = []
            try ImageDepth.run(head: depthHead, model: model, paths: paths, stems: stems, inference: inferenceOptions.resolved(for: depthHead),
                               flip: !noTTA, maxPixels: pixelLimit.maxPixels, onFailure: fail) { index, result in
                say(String(format: "%@: %dx%d, depth %.2f to %.2f m", shown(paths[index]), result.width, result.height, result.nearest, result.farthest))
                written += result.files
            }
            return written
        }
    }
}

/// The frame of a command that writes files per image below --out (segment, depth): the images
/// listed, the run folder opened over their outputs (`files` of each output stem), the model
/// loaded quietly, checked and recorded. `body` gets the run, the model, the images, their output
/// stems in the staging folder and `fail` (says and counts a failed image; listing problems count
/// too) and returns the files it wrote, which `publish` publishes; any failure fails the command.
func writePerImage(_ items: [String], out: String, prefix: String, overwrite: Bool, command: ParsableArguments, modelOptions: ModelOptions,
                   resolved: [String: Any] = [:], files: (String) -> [String], check: (DINOv3Model) throws -> Void,
                   publish: (RunFolder, [String]) throws -> Void,
                   body: (RunFolder, DINOv3Model, [String], _ stems: [String], _ fail: (Any) -> Void) throws -> [String]) throws {
    let listing = try ImageFiles.expand(items)
    let names = ImageFiles.outputNames(for: listing.images)
    let run = try RunFolder.open(out, prefix: prefix, overwrite: overwrite, guarding: names.flatMap(files), command: command, resolved: resolved)
    defer { run.close() }
    let model = try modelOptions.load(quiet: true)
    try check(model)
    try run.update { $0.record(model: model, id: modelOptions.displayID, threads: modelOptions.threadCount) }
    var failures = 0
    func fail(_ problem: Any) {
        failures += 1
        Console.err("error: \(problem)")
    }
    listing.problems.forEach(fail)
    let staging = try run.staging()
    let written = try body(run, model, listing.images, names.map { staging + "/" + $0 }, fail)
    try publish(run, written.map { ByteText.relative($0, to: staging) ?? $0 })
    if failures > 0 { throw ExitCode(1) }
}
