import Datasets
import Heads
import ImagePreprocessing
import Images
import Support

/// A depth data set is a dense data set of depth maps (metres, 0 = no depth).
extension DepthDataset: DenseDataset {
    public func imagePath(_ index: Int) -> String { samples[index].image }
    public func targetPath(_ index: Int) -> String { samples[index].depth }
    public func loadTarget(_ index: Int) throws -> DepthMap { try loadDepth(samples[index]) }
    public var targetRule: PatchFeatureStore.TargetRule { .depths }
    public var targetKey: [String] { ["depth-scale=\(depthScale)", "layout=\(layout.rawValue)"] }
    public static var pairKind: String { "image/depth" }
}

/// Meta's depth training augmentation as a dense augmentation: square views (the store holds
/// square inputs), so the random crop is `size` x `size` rather than Meta's 416x544.
extension DepthAugmentation: DenseAugmentation {
    /// A square augmentation whose random crop is `size` x `size`.
    public init(size: Int, fixedCrop: FixedCrop = .nyu) {
        self.init(fixedCrop: fixedCrop)
        (cropWidth, cropHeight) = (size, size)
    }

    public var size: Int { cropHeight }

    public func view(image: RGBImage, target: DepthMap, preprocessing: Preprocessing, random: inout SeededRandom) throws
        -> (pixels: [Float], targets: [Float]) {
        guard cropWidth == cropHeight else { throw ImageError.invalid("a cached depth view must be square (crop \(cropWidth)x\(cropHeight))") }
        let view = try view(image: image, depth: target, random: &random)
        return (view.normalised(preprocessing), view.depth.values)
    }
}
