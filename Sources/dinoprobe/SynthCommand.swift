import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Support
import Training

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write generated data (to try dinoprobe without downloads, and for tests).",
        discussion: examples("synth model --out models/random", "synth classification --out shapes"),
        subcommands: [SynthClassification.self, SynthSegmentation.self, SynthDepth.self, SynthCorrespondence.self, SynthRetrieval.self, SynthVideo.self, SynthModel.self])
}

/// Where a generated data set goes, whether it may replace one there, and its seed.
struct SynthTargetOptions: ParsableArguments {
    @Option(help: "Folder to create (must be new or empty).", completion: .directory)
    var out: String

    @Flag(help: "Replace a data set generated earlier in --out.")
    var overwrite = false

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    func validate() throws {
        if !overwrite, let entries = try? FileSystem.list(out), !entries.isEmpty {
            throw ValidationError("\(out) is not empty; choose another --out, or pass --overwrite to replace a data set generated there")
        }
    }
}

/// The options every generated image set takes.
struct SynthFolderOptions: ParsableArguments {
    @OptionGroup var target: SynthTargetOptions

    @Option(help: "Training items (per class where there are classes); val: a quarter as many, at least 2.")
    var count: Int = 40

    @Option(help: "Image side in pixels.")
    var size: Int = 64

    var out: String { target.out }
    var seed: UInt64 { target.seed }

    var valCount: Int { max(2, count / 4) }

    func validate() throws {
        try Check.range(count, 1...100_000, "--count")
        try Check.range(size, 16...4096, "--size")
    }
}

struct SynthClassification: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classification",
        abstract: "An ImageFolder (train/ and val/) whose classes differ in hue and shape.",
        discussion: examples("synth classification --out shapes --classes 4"))

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
        abstract: "images/ + masks/ + classes.txt with shapes on textured backgrounds, masks known exactly.",
        discussion: examples("synth segmentation --out seg-shapes"))

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
        abstract: "Meta's NYU layout (nyu_train.txt, nyu_test.txt, JPEG images, 16-bit PNG depth in mm) of rooms whose colour and texture carry the depth.",
        discussion: examples("synth depth --out rooms --count 32"))

    @OptionGroup var target: SynthTargetOptions

    @Option(help: "Training pairs; val: a quarter as many, at least 2.")
    var count: Int = 32

    @Option(help: "Image width in pixels.")
    var width: Int = 320

    @Option(help: "Image height in pixels.")
    var height: Int = 240

    func validate() throws {
        try Check.range(count, 1...100_000, "--count")
        try Check.range(width, 16...4096, "--width")
        try Check.range(height, 16...4096, "--height")
    }

    func run() throws {
        let written = try SyntheticDepth.make(root: target.out, count: count, valCount: max(2, count / 4), width: width, height: height, seed: target.seed)
        say("wrote \(target.out): \(written.train) train and \(written.val) val pairs of \(width)x\(height) in the NYU layout (depth in millimetres)")
    }
}

struct SynthCorrespondence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correspondence",
        abstract: "An SPair-71k layout (JPEGImages/, PairAnnotation/{trn,val,test}/): objects with coloured parts as keypoints.",
        discussion: examples("synth correspondence --out spair-toy", then: "--count pairs per category and split; images at most --size pixels on a side, not square."))

    @OptionGroup var folder: SynthFolderOptions

    func validate() throws { try Check.range(folder.size, 48...2048, "--size") }

    func run() throws {
        let written = try SyntheticData.makeCorrespondenceFolder(root: folder.out, pairs: folder.count, size: folder.size, seed: folder.seed)
        say("wrote \(folder.out): \(written) pair annotations, categories \(SyntheticData.keypointCategoryNames.joined(separator: ", "))")
    }
}

struct SynthRetrieval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieval",
        abstract: "revisitop's layout (jpg/ + gnd_synth.pkl): landmark scenes seen in easy, hard and junk views, distractors, one boxed query per landmark.",
        discussion: examples("synth retrieval --out landmarks --landmarks 4 --distractors 6"))

    @OptionGroup var target: SynthTargetOptions

    @Option(help: "Landmarks (one query each).")
    var landmarks: Int = 4

    @Option(help: "Database views per landmark.")
    var views: Int = 5

    @Option(help: "Distractor images in the database.")
    var distractors: Int = 6

    @Option(help: "Image side in pixels.")
    var size: Int = 64

    func validate() throws {
        try Check.range(landmarks, 1...1000, "--landmarks")
        try Check.range(views, 2...100, "--views")
        try Check.range(distractors, 0...100_000, "--distractors")
        try Check.range(size, 16...1024, "--size")
    }

    func run() throws {
        let gt = try SyntheticRetrieval.make(root: target.out, landmarks: landmarks, views: views, distractors: distractors, size: size, seed: target.seed)
        say("wrote \(target.out): \(gt.imlist.count) database images, \(gt.queries.count) queries, gnd_synth.pkl")
    }
}

struct SynthModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "A ViT-S/16-shaped checkpoint (config.json + model.safetensors) with fixed random weights: the real layout, meaningless features.",
        discussion: examples("synth model --out models/random", then: "The checkpoint `dinoprobe bench` uses. Every run with the same --seed writes the same weights (same fingerprint)."))

    @Option(help: "Folder to create.", completion: .directory)
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

struct SynthVideo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract: "A DAVIS 2017 layout (JPEGImages/480p, Annotations/480p palette PNGs, ImageSets/2017/val.txt) of short videos of moving textured objects.",
        discussion: examples("synth video --out davis-toy"))

    @OptionGroup var target: SynthTargetOptions

    @Option(help: "Videos.")
    var videos: Int = 2

    @Option(help: "Frames per video.")
    var frames: Int = 8

    @Option(help: "Frame width in pixels.")
    var width: Int = 128
    @Option(help: "Frame height in pixels.")
    var height: Int = 80

    func validate() throws {
        try Check.range(videos, 1...100, "--videos")
        try Check.range(frames, 3...500, "--frames")
        try Check.range(width, 16...2048, "--width")
        try Check.range(height, 16...2048, "--height")
    }

    func run() throws {
        let names = try SyntheticData.makeVideoFolder(root: target.out, videos: videos, frames: frames, width: width, height: height,
                                                      seed: target.seed)
        say("wrote \(target.out): \(names.count) videos of \(frames) frames (\(width)x\(height)), annotations on every frame, ImageSets/2017/val.txt")
    }
}
