import Datasets
import Foundation
import Heads
import Images
import Support

/// Pairs of an image and its per-pixel target (a class mask, a depth map): what a dense task's
/// data reader gives the shared patch store.
public protocol DenseDataset: Sendable {
    associatedtype Target: DenseTarget where Target.Value: PatchStoreValue
    var count: Int { get }
    /// The data set's root folder.
    var root: String { get }
    /// The image of pair `index`.
    func imagePath(_ index: Int) -> String
    /// The target file of pair `index` (for store keys and skip reports).
    func targetPath(_ index: Int) -> String
    /// The target of pair `index`, read and checked.
    func loadTarget(_ index: Int) throws -> Target
    /// What a patch store of this data set must hold in its targets.
    var targetRule: PatchFeatureStore.TargetRule { get }
    /// Facts that give the targets their meaning (label rules, scale), for store keys.
    var targetKey: [String] { get }
    /// What a pair is, in messages ("image/mask").
    static var pairKind: String { get }
    /// The good pairs and the skipped ones with their reasons; `progress` gets (checked, total).
    func validate(progress: ((Int, Int) -> Void)?) -> (valid: Self, skipped: [SkippedInput])
}

extension DenseDataset {
    /// The usable pairs of this `split` of the data set at `root` (the check's progress told), the
    /// bad ones handed to `skipped`; a split without a usable pair is refused.
    public func usable(_ split: DatasetSplit, of root: String, reporter: Reporter, skipped report: ([SkippedInput]) throws -> Void) throws -> Self {
        let task = reporter.task("check \(split.rawValue) pairs", total: count, unit: "pairs")
        let (valid, skipped) = validate { done, _ in task.update(done) }
        task.finish(count, note: skipped.isEmpty ? "" : "\(skipped.count) bad")
        try report(skipped)
        guard valid.count > 0 else { throw TrainingError.badOption("no usable \(Self.pairKind) pair in the \(split.rawValue) split of \(root)") }
        return valid
    }
}

/// A random training view of a dense pair (Meta's training augmentations), drawn from a seeded stream.
public protocol DenseAugmentation<Target>: Sendable, Encodable {
    associatedtype Target: DenseTarget
    /// The side of every view, in pixels.
    var size: Int { get }
    /// One view: normalised planar pixels [3, size, size] and targets [size, size].
    func view(image: RGBImage, target: Target, preprocessing: Preprocessing, random: inout SeededRandom) throws
        -> (pixels: [Float], targets: [Target.Value])
}

/// Augmented training views of a dense data set: how many per pair, made how, from which seed.
public struct AugmentedDenseViews<Target: DenseTarget>: Sendable {
    public var augmentation: any DenseAugmentation<Target>
    public var views: Int
    public var seed: UInt64

    public init(augmentation: any DenseAugmentation<Target>, views: Int, seed: UInt64) {
        (self.augmentation, self.views, self.seed) = (augmentation, views, seed)
    }

    /// What identifies the views in a store key (the augmentation as JSON with sorted keys).
    var key: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = (try? encoder.encode(augmentation)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "augment=\(views) seed=\(seed) \(text)"
    }
}
