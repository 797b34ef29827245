import Datasets
import Foundation
import Images
import Support

/// One image and its depth map (a 16-bit greyscale PNG of depth x the data set's scale).
public struct DepthSample: Sendable, Hashable, Codable {
    /// Absolute path of the image (JPEG or PNG).
    public var image: String
    /// Absolute path of the depth PNG.
    public var depth: String

    public init(image: String, depth: String) { (self.image, self.depth) = (image, depth) }
}

/// One split of a depth data set, in one of two layouts:
///
/// - `nyu`, Meta's NYU layout (`dinov3/data/datasets/nyu.py`, BTS's split files):
///   `ROOT/nyu_train.txt` (train) and `ROOT/nyu_test.txt` (val), lines `rgb_path depth_path focal`,
///   paths relative to ROOT (leading and trailing `/` stripped, as Meta's `strip("/")`), lines
///   sorted as Meta sorts them; depth in millimetres (scale 1000); the focal length is not used.
/// - `folder`: `ROOT/images/{train,val}/NAME.jpg` and `ROOT/depth/{train,val}/NAME.png`, depth
///   x `depthScale` (1000 for millimetres, 256 for KITTI-style PNGs).
///
/// A list entry outside ROOT, naming a missing file, or not of three fields refuses the whole
/// list, by name and line; `validate` skips (and lists with the reason) the pairs whose depth
/// PNG is not 16-bit greyscale, has another size than its image, or holds no depth at all.
public struct DepthDataset: Sendable, Equatable {
    public enum Layout: String, Sendable, CaseIterable, Codable { case nyu, folder }

    public var root: String
    public var split: DatasetSplit
    public var layout: Layout
    public var samples: [DepthSample]
    /// Stored value per metre.
    public var depthScale: Float

    public var count: Int { samples.count }

    /// The list file of `split` in the NYU layout.
    public static func nyuList(_ split: DatasetSplit) -> String { split == .train ? "nyu_train.txt" : "nyu_test.txt" }

    /// Loads `split` of `root` in `layout` (default: `nyu` when ROOT holds `nyu_train.txt` or
    /// `nyu_test.txt`, else `folder`). Throws before reading anything for a scale that is not
    /// finite and positive.
    public static func load(root: String, split: DatasetSplit, layout: Layout? = nil, depthScale: Float = 1000) throws -> DepthDataset {
        guard depthScale.isFinite, depthScale > 0 else {
            throw DatasetError.invalidParameter("the depth scale must be a positive number of stored units per metre (got \(depthScale))")
        }
        let root = FileSystem.absolute(root)
        let isNYU = DatasetSplit.allCases.contains { FileSystem.exists(root + "/" + nyuList($0)) }
        let chosen = layout ?? (isNYU ? .nyu : .folder)
        let samples = chosen == .nyu ? try nyuSamples(root: root, split: split) : try folderSamples(root: root, split: split)
        return DepthDataset(root: root, split: split, layout: chosen, samples: samples, depthScale: depthScale)
    }

    static func nyuSamples(root: String, split: DatasetSplit) throws -> [DepthSample] {
        let list = root + "/" + nyuList(split)
        guard FileSystem.exists(list) else {
            throw DatasetError.missingSplit(split: split, path: list, hint: "the NYU layout lists pairs in ROOT/nyu_train.txt and ROOT/nyu_test.txt, lines 'rgb_path depth_path focal'")
        }
        let text = try ListFile.read(list)
        let folder: ConfinedFolder
        do { folder = try ConfinedFolder(root) } catch { throw DatasetError.badFile(path: root, reason: "\(error)") }
        var samples: [DepthSample] = []
        for (line, entry) in ListFile.lines(of: text).sorted(by: { $0.text < $1.text }) {
            // White space cut scalar by scalar, as Python's split(): " \u{301}" is one Character,
            // whose split dropped the mark from the next path.
            let fields = ByteText.fields(entry).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
            guard fields.count == 3 else {
                throw DatasetError.badFile(path: list, reason: "line \(line) has \(fields.count) fields; each line is 'rgb_path depth_path focal'")
            }
            let image = try folder.resolve(fields[0], listedIn: list, line: line)
            let depth = try folder.resolve(fields[1], listedIn: list, line: line)
            guard FileSystem.exists(image) else { throw DatasetError.missingImage(path: image, listedIn: "\(list) line \(line)") }
            guard FileSystem.exists(depth) else { throw DatasetError.badFile(path: depth, reason: "no such file (listed in \(list) line \(line))") }
            samples.append(DepthSample(image: image, depth: depth))
        }
        guard !samples.isEmpty else { throw DatasetError.emptySplit(folder: list, hint: "the list names no pairs") }
        return samples
    }

    static func folderSamples(root: String, split: DatasetSplit) throws -> [DepthSample] {
        let hint = "expected ROOT/images/{train,val}/NAME.jpg and ROOT/depth/{train,val}/NAME.png (16-bit depth), or ROOT/nyu_train.txt"
        let (images, depths) = try PairedFolders.folders(root: root, split: split, targets: "depth", hint: hint)
        let samples = try PairedFolders.pair(imageFolder: images, targetFolder: depths).map { DepthSample(image: $0.image, depth: $0.target) }
        guard !samples.isEmpty else { throw DatasetError.emptySplit(folder: images, hint: hint) }
        return samples
    }

    /// The depth map of `sample` in metres, checked: a 16-bit greyscale PNG (within
    /// `maxPixels`), of `imageSize` when given, with at least one pixel of depth.
    public func loadDepth(_ sample: DepthSample, imageSize: (width: Int, height: Int)? = nil,
                          maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> DepthMap {
        let map: DepthMap
        do { map = try DepthMap(png: sample.depth, scale: depthScale, maxPixels: maxPixels) } catch let error as ImageError {
            throw DatasetError.badFile(path: sample.depth, reason: "depth map: \(error.reason)")
        }
        if let size = imageSize, size != (map.width, map.height) {
            throw DatasetError.badFile(path: sample.depth, reason: "depth map is \(map.width)x\(map.height) but its image is \(size.width)x\(size.height)")
        }
        guard map.values.contains(where: { $0 != 0 }) else {
            throw DatasetError.badFile(path: sample.depth, reason: "depth map holds no depth (every pixel is 0)")
        }
        return map
    }

    /// Checks one pair: the image's header reads, the depth map passes `loadDepth` at its size.
    public func check(_ sample: DepthSample, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws {
        let info = try ImageDecoder.info(path: sample.image, maxPixels: maxPixels)
        _ = try loadDepth(sample, imageSize: (info.width, info.height), maxPixels: maxPixels)
    }

    /// The good pairs and the skipped ones with their reasons; `progress` gets (checked, total).
    public func validate(progress: ((Int, Int) -> Void)? = nil) -> (valid: DepthDataset, skipped: [SkippedInput]) {
        var valid = self
        var skipped: [SkippedInput] = []
        valid.samples = samples.enumerated().compactMap { i, sample in
            defer { progress?(i + 1, samples.count) }
            do { try check(sample, maxPixels: ImageDecoder.defaultMaxPixels); return sample } catch {
                skipped.append(Self.skipped(i, sample, error))
                return nil
            }
        }
        return (valid, skipped)
    }

    /// A 16-hex-digit fingerprint of the listing (layout, split, scale, each file's relative
    /// path, size and modification time), for cache keys.
    public func listingFingerprint() -> String {
        var h = FNV1a()
        h.combine("dinoprobe-depth-listing-v1 \(layout.rawValue) \(split.rawValue) \(depthScale)")
        h.combineFiles(samples.flatMap { [$0.image, $0.depth] }, root: root)
        return h.hexDigest
    }

    static func skipped(_ index: Int, _ sample: DepthSample, _ error: Error) -> SkippedInput {
        switch error {
        case let DatasetError.badFile(path, reason): return SkippedInput(index: index, path: path, reason: reason)
        case let error as ImageError: return SkippedInput(index: index, path: error.path ?? sample.image, reason: error.reason)
        default: return SkippedInput(index: index, path: sample.image, reason: "\(error)")
        }
    }
}
