import Datasets
import Heads
import Images
import Support

/// A segmentation data set is a dense data set of class masks.
extension SegmentationDataset: DenseDataset {
    public func imagePath(_ index: Int) -> String { samples[index].image }
    public func targetPath(_ index: Int) -> String { samples[index].mask }
    public func loadTarget(_ index: Int) throws -> LabelMask { try loadMask(for: samples[index]) }
    public var targetRule: PatchFeatureStore.TargetRule { .classes(count: classCount, ignoreIndex: ignoreIndex) }
    public var targetKey: [String] { ["reduce=\(reduceZeroLabel)", "classes=\(classCount)", "ignore=\(ignoreIndex)"] }
    public static var pairKind: String { "image/mask" }
}

/// Meta's segmentation training augmentation as a dense augmentation of class masks.
extension SegmentationAugmentation: DenseAugmentation {
    public func view(image: RGBImage, target: LabelMask, preprocessing: Preprocessing, random: inout SeededRandom) throws
        -> (pixels: [Float], targets: [UInt8]) {
        let view = try view(image: image, mask: target, random: &random)
        return (view.pixels(preprocessing), view.labels)
    }
}

/// Segmentation data set layouts (auto: found from the folders).
public enum SegmentationLayout: String, CaseIterable, Sendable {
    case auto, ade20k, voc, folder

    /// One split of the data set at `root` read in this layout.
    public func load(root: String, split: DatasetSplit) throws -> SegmentationDataset {
        switch self {
        case .auto: try SegmentationDataset.load(root: root, split: split)
        case .ade20k: try ADE20K.load(root: root, split: split)
        case .voc: try PascalVOC.load(root: root, split: split)
        case .folder: try SegmentationFolder.load(root: root, split: split)
        }
    }
}
