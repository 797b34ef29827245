import ArgumentParser
import Foundation
import Training

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a small generated data set (to try dinoprobe without downloads, and for tests).",
        discussion: """
        classification: an ImageFolder (train/ and val/) whose classes differ in hue and shape. \
        segmentation: images/ + masks/ + classes.txt with shapes on textured backgrounds, masks known exactly.
        """)

    @Argument(help: "classification or segmentation")
    var kind: String

    @Option(help: "Folder to create (must be new or empty).")
    var out: String

    @Option(help: "Classes (classification).")
    var classes: Int = 4

    @Option(help: "Training images per class (classification) or in all (segmentation).")
    var count: Int = 40

    @Option(help: "Image side in pixels.")
    var size: Int = 64

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    func validate() throws {
        guard kind == "classification" || kind == "segmentation" else { throw ValidationError("kind must be classification or segmentation") }
        try Check.range(classes, 2...1000, "--classes")
        try Check.range(count, 1...100_000, "--count")
        try Check.range(size, 16...4096, "--size")
    }

    func run() throws {
        switch kind {
        case "classification":
            let names = try SyntheticData.makeClassificationFolder(root: out, classes: classes, perClass: count,
                                                                   valPerClass: max(2, count / 4), size: size, seed: seed)
            say("wrote \(out): \(names.count) classes, \(count) train and \(max(2, count / 4)) val images each")
        case "segmentation":
            let pairs = try SyntheticData.makeSegmentationFolder(root: out, count: count, valCount: max(2, count / 4), size: size, seed: seed)
            say("wrote \(out): \(pairs.train.count) train and \(pairs.val.count) val image/mask pairs, classes \(SyntheticData.segmentationClassNames.joined(separator: ", "))")
        default:
            throw ValidationError("kind must be classification or segmentation")
        }
    }
}
