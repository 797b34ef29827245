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
    func loadValid(_ split: DatasetSplit, folder: RunFolder?, reporter: Reporter) throws -> SegmentationDataset {
        try loadValidSegmentation(root: data, layout: layout, split: split, folder: folder, reporter: reporter)
    }
}

/// One split of a segmentation data set in `layout`, with its bad pairs removed and reported.
func loadValidSegmentation(root: String, layout: SegmentationLayout, split: DatasetSplit, folder: RunFolder?,
                           reporter: Reporter) throws -> SegmentationDataset {
    try Check.folder(root, "--data")
    let dataset: SegmentationDataset
    switch layout {
    case .auto: dataset = try SegmentationDataset.load(root: root, split: split)
    case .ade20k: dataset = try ADE20K.load(root: root, split: split)
    case .voc: dataset = try PascalVOC.load(root: root, split: split)
    case .folder: dataset = try SegmentationFolder.load(root: root, split: split)
    }
    let task = reporter.task("check \(split.rawValue) pairs", total: dataset.count, unit: "pairs")
    let (valid, skipped) = dataset.validate { done, _ in task.update(done) }
    task.finish(dataset.count, note: skipped.isEmpty ? "" : "\(skipped.count) bad")
    try reportSkipped(skipped, split: split.rawValue, folder: folder)
    guard valid.count > 0 else { throw ValidationError("no usable image/mask pair in the \(split.rawValue) split of \(root)") }
    return valid
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

    /// The inference for a head trained at `size` pixels.
    func resolved(headSize: Int) -> DenseInference {
        inference == .whole ? .whole : .slide(SlidingWindow(crop: crop ?? headSize, stride: stride))
    }
}
