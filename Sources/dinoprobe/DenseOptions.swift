import ArgumentParser
import CommandLineKit
import Backbone
import Datasets
import Foundation
import Heads
import Hub
import Images
import Support
import Training

/// Which segmentation data set and layout.
struct SegmentationDataOptions: ParsableArguments {
    @Option(help: "Data set root (ADE20K, Pascal VOC 2012, or images/ + masks/ + classes.txt).", completion: .directory)
    var data: String

    @Option(help: "Data set layout (auto: found from the folders).")
    var layout: SegmentationLayout = .auto

    /// One split with its bad pairs removed and reported.
    func loadValid(_ split: DatasetSplit, folder: RunFolder?, reporter: Reporter = TerminalReporter.shared) throws -> SegmentationDataset {
        try Check.folder(data, "--data")
        return try layout.load(root: data, split: split).usable(split, of: data, reporter: reporter) {
            try reportSkipped($0, split: split.rawValue, folder: folder)
        }
    }
}

/// How a segmentation head is applied to an image: whole, or by Meta's sliding window.
struct InferenceOptions: ParsableArguments {
    enum Mode: String, ExpressibleByArgument, CaseIterable { case whole, slide }

    @Option(help: "whole (the image resized to the head's size) or slide (Meta's ADE20K setting: short side at the head's size, square crops, overlapping logits averaged).")
    var inference: Mode = .whole

    @Option(help: "Sliding-window crop side in pixels, a multiple of 16 (default: the head's size, e.g. 512).")
    var crop: Int?

    @Option(help: "Sliding-window stride in pixels (default: two thirds of the crop, e.g. 341 for 512).")
    var stride: Int?

    func validate() throws {
        if let crop { try Check.multiple(crop, of: 16, 16...4096, "--crop") }
        try Check.optionalRange(stride, 1...4096, "--stride")
        if inference == .whole && (crop != nil || stride != nil) { throw ValidationError("--crop and --stride go with --inference slide") }
    }

    /// The inference for a head trained at `size` pixels (a window that leaves pixels uncovered is refused).
    func resolved(headSize: Int) throws -> DenseInference {
        inference == .whole ? .whole : .slide(try SlidingWindow(crop: crop ?? headSize, stride: stride))
    }

    /// The inference for a saved head (trained at 448 when it does not say).
    func resolved(for head: some DenseHead) throws -> DenseInference { try resolved(headSize: head.metadata.inputResolution ?? 448) }
}

/// What a trained dense task's patch store holds: mirrored or augmented views, which blocks,
/// and which shard of it this process builds.
struct DenseStoreOptions: ParsableArguments {
    @Option(help: "Input size S in pixels (square, a multiple of 16): 448 for dense work, 224 gives a 14x14 grid.")
    var size: Int = 448

    @Flag(help: "Also cache a mirrored view of every training pair (doubles the views).")
    var flip = false

    @OptionGroup var sharding: ShardChoiceOptions

    @Option(help: "Cache N augmented views per training pair instead (Meta's augmentation of the task, see docs/protocols.md).")
    var augment: Int = 0

    @Option(parsing: .upToNextOption, help: "Blocks whose normed patch tokens are concatenated before the head, 0-based (Meta: 2,5,8,11 for ViT-S/B, 4,11,17,23 for L); default the last block.")
    var layers: [CommaList<Int>] = []

    func validate() throws {
        try Check.multiple(size, of: 16, 16...4096, "--size")
        try Check.range(augment, SegmentationSettings.Ranges.augmentedViews, "--augment")
        if augment > 0 && flip { throw ValidationError("--augment already flips half of its views: drop --flip") }
        let chosen = layers.flattened()
        for layer in chosen { try Check.range(layer, 0...1023, "--layers") }
        if zip(chosen, chosen.dropFirst()).contains(where: { $0 >= $1 }) { throw ValidationError("--layers: give block indices in increasing order") }
    }
}
