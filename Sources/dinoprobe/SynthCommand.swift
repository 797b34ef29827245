import ArgumentParser
import Backbone
import Datasets
import Foundation
import Training

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write generated data (to try dinoprobe without downloads, and for tests).",
        subcommands: [SynthClassification.self, SynthSegmentation.self, SynthDepth.self, SynthModel.self])
}

/// The options every generated data set takes.
struct SynthFolderOptions: ParsableArguments {
    @Option(help: "Folder to create (must be new or empty).")
    var out: String

    @Option(help: "Training items (per class where there are classes); val: a quarter as many, at least 2.")
    var count: Int = 40

    @Option(help: "Image side in pixels.")
    var size: Int = 64

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    var valCount: Int { max(2, count / 4) }

    func validate() throws {
        try Check.range(count, 1...100_000, "--count")
        try Check.range(size, 16...4096, "--size")
    }
}

struct SynthClassification: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classification",
        abstract: "An ImageFolder (train/ and val/) whose classes differ in hue and shape.")

    @OptionGroup var folder: SynthFolderOptions

    @Option(help: "Classes.")
    var classes: Int = 4

    func validate() throws {
        try Check.range(classes, 2...1000, "--classes")
    }

    func run() throws {
        let names = try SyntheticData.makeClassificationFolder(root: folder.out, classes: classes, perClass: folder.count,
                                                               valPerClass: folder.valCount, size: folder.size, seed: folder.seed)
        say("wrote \(folder.out): \(names.count) classes, \(folder.count) train and \(folder.valCount) val images each")
    }
}

struct SynthSegmentation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segmentation",
        abstract: "images/ + masks/ + classes.txt with shapes on textured backgrounds, masks known exactly.")

    @OptionGroup var folder: SynthFolderOptions

    func run() throws {
        let pairs = try SyntheticData.makeSegmentationFolder(root: folder.out, count: folder.count, valCount: folder.valCount,
                                                             size: folder.size, seed: folder.seed)
        say("wrote \(folder.out): \(pairs.train.count) train and \(pairs.val.count) val image/mask pairs, classes \(SyntheticData.segmentationClassNames.joined(separator: ", "))")
    }
}

struct SynthDepth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Meta's NYU layout (nyu_train.txt, nyu_test.txt, JPEG images, 16-bit PNG depth in mm) of rooms whose colour and texture carry the depth.")

    @Option(help: "Folder to create (must be new or empty).")
    var out: String

    @Option(help: "Training pairs; val: a quarter as many, at least 2.")
    var count: Int = 32

    @Option(help: "Image width in pixels.")
    var width: Int = 320

    @Option(help: "Image height in pixels.")
    var height: Int = 240

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    func validate() throws {
        try Check.range(count, 1...100_000, "--count")
        try Check.range(width, 16...4096, "--width")
        try Check.range(height, 16...4096, "--height")
    }

    func run() throws {
        let written = try SyntheticDepth.make(root: out, count: count, valCount: max(2, count / 4), width: width, height: height, seed: seed)
        say("wrote \(out): \(written.train) train and \(written.val) val pairs of \(width)x\(height) in the NYU layout (depth in millimetres)")
    }
}

struct SynthModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "A ViT-S/16-shaped checkpoint (config.json + model.safetensors) with fixed random weights: the real layout, meaningless features.",
        discussion: "The checkpoint `dinoprobe bench` uses. Every run with the same --seed writes the same weights (same fingerprint).")

    @Option(help: "Folder to create.")
    var out: String

    @Option(help: "Seed of the weights.")
    var seed: UInt64 = 1

    @Flag(help: "Replace a checkpoint already in --out.")
    var overwrite = false

    func run() throws {
        let folder = URL(fileURLWithPath: out)
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) && !overwrite {
            throw ValidationError("\(out) already holds a checkpoint; choose another --out, or pass --overwrite")
        }
        try RandomCheckpoint.write(config: .vitS16, to: folder, seed: seed)
        let model = try DINOv3Model(folder: folder)
        say("wrote \(out): \(model.variantName), \(model.parameterCount.formatted()) parameters of random weights, fingerprint \(model.fingerprint)")
    }
}
