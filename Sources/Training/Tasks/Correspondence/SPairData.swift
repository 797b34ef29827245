import Images
import Support

/// One SPair-71k pair, checked against its images: the keypoints visible in both images
/// (pixel indices, source i matching target i) and the target box the PCK threshold uses.
public struct KeypointPair: Sendable {
    public typealias Point = (x: Double, y: Double)
    /// The annotation file's name without `.json`.
    public var name: String
    public var category: String
    public var sourceImage: String, targetImage: String
    public var sourceSize: (width: Int, height: Int), targetSize: (width: Int, height: Int)
    public var sourceKeypoints: [Point], targetKeypoints: [Point]
    /// Target box [x0, y0, x1, y1] in target pixels.
    public var targetBox: [Double]

    /// max(width, height) of the target box: the PCK threshold is alpha times this.
    public var boxSide: Double { max(targetBox[2] - targetBox[0], targetBox[3] - targetBox[1]) }
}

/// The SPair-71k layout: `JPEGImages/<category>/<name>.jpg` and
/// `PairAnnotation/{trn,val,test}/<pair>.json` with `src_imname`, `trg_imname`, `category`,
/// `src_kps` and `trg_kps` (lists of [x, y], equally long, entry i of each the same part),
/// `src_bndbox` and `trg_bndbox` ([x0, y0, x1, y1]); `src_imsize` / `trg_imsize` ([w, h, c]) are
/// checked when present. A keypoint given as `null` in either list is not visible in both and
/// is not counted (SPair's pair files list only keypoints visible in both images already).
public enum SPairData {
    public static let splits = ["trn", "val", "test"]
    /// Largest annotation file read (SPair's are about 1 KB).
    public static let maxAnnotationBytes: Int64 = 1 << 20
    /// Most keypoints in one pair (SPair has at most 30 per category).
    public static let maxKeypoints = 1000

    /// The pairs of `settings`' split and categories in `root`; none is an error.
    public static func load(root: String, settings: CorrespondenceSettings, maxPixels: Int) throws -> (pairs: [KeypointPair], skipped: [SkippedInput]) {
        let loaded = try load(root: root, split: settings.split, categories: settings.categories.isEmpty ? nil : Set(settings.categories),
                              limit: settings.limit, maxPixels: maxPixels)
        guard !loaded.pairs.isEmpty else { throw TrainingError.badOption("no usable pair in \(root)/PairAnnotation/\(settings.split)") }
        return loaded
    }

    /// The pairs of `split` in file-name order, restricted to `categories` (nil: all) and to the
    /// first `limit` of each category; pairs that cannot be used are returned with the reason.
    public static func load(root: String, split: String, categories: Set<String>?, limit: Int?,
                            maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> (pairs: [KeypointPair], skipped: [SkippedInput]) {
        guard splits.contains(split) else { throw TrainingError.badOption("split \(split): SPair's splits are \(splits.joined(separator: ", "))") }
        let folder = try ConfinedFolder(root)
        let listing = folder.path + "/PairAnnotation/" + split
        let names = try FileSystem.list(listing).filter { ByteText.hasSuffix($0, ".json") }.sorted()
        var pairs: [KeypointPair] = [], skipped: [SkippedInput] = [], perCategory: [String: Int] = [:]
        for (index, file) in names.enumerated() {
            do {
                let bytes = try FileSystem.read(listing + "/" + file, limit: maxAnnotationBytes)
                let json: JSONValue
                do { json = try StrictJSON.parse(bytes) } catch { throw fail("not valid JSON: \(error)") }
                let category = try text(json, "category")
                if let categories, !categories.contains(category) { continue }
                if let limit, perCategory[category, default: 0] >= limit { continue }
                pairs.append(try pair(json, name: ByteText.dropping(suffix: ".json", from: file) ?? file, category: category, folder: folder,
                                      listedIn: listing + "/" + file, maxPixels: maxPixels))
                perCategory[category, default: 0] += 1
            } catch {
                skipped.append(SkippedInput(index: index, path: listing + "/" + file, reason: "\(error)"))
            }
        }
        return (pairs, skipped)
    }

    /// One pair from its parsed annotation, every coordinate checked against its image.
    static func pair(_ json: JSONValue, name: String, category: String, folder: ConfinedFolder, listedIn: String,
                     maxPixels: Int) throws -> KeypointPair {
        func image(_ key: String) throws -> (String, (width: Int, height: Int)) {
            let path = try folder.resolve("JPEGImages/\(category)/\(try text(json, key + "_imname"))", listedIn: listedIn)
            let info = try ImageDecoder.info(path: path, maxPixels: maxPixels)
            if let given = json[key + "_imsize"] {
                let size = try numbers(given, "\(key)_imsize")
                guard size.count >= 2, size[0] == Double(info.width), size[1] == Double(info.height) else {
                    throw fail("\(key)_imsize says \(size.prefix(2).map { "\(Int(exactly: $0) ?? -1)" }.joined(separator: "x")) but the image is \(info.width)x\(info.height)")
                }
            }
            return (path, (info.width, info.height))
        }
        let (source, sourceSize) = try image("src"), (target, targetSize) = try image("trg")
        let src = try keypoints(json, "src_kps", inside: sourceSize), trg = try keypoints(json, "trg_kps", inside: targetSize)
        guard src.count == trg.count else { throw fail("src_kps has \(src.count) keypoints but trg_kps has \(trg.count)") }
        let visible = zip(src, trg).compactMap { s, t in s.flatMap { s in t.map { (s, $0) } } }
        guard !visible.isEmpty else { throw fail("no keypoint is visible in both images") }
        _ = try box(json, "src_bndbox", inside: sourceSize)
        return KeypointPair(name: name, category: category, sourceImage: source, targetImage: target, sourceSize: sourceSize,
                            targetSize: targetSize, sourceKeypoints: visible.map(\.0), targetKeypoints: visible.map(\.1),
                            targetBox: try box(json, "trg_bndbox", inside: targetSize))
    }

    static func fail(_ reason: String) -> TrainingError { .incompatible(reason) }

    static func text(_ json: JSONValue, _ key: String) throws -> String {
        guard let value = json[key]?.string, !value.isEmpty, !PathCodec.bytes(of: value).contains(ByteText.slash) else {
            throw fail("\(key) is missing or not a plain name")
        }
        return value
    }

    static func numbers(_ value: JSONValue, _ key: String) throws -> [Double] {
        guard case let .array(items) = value, items.count <= 2 * maxKeypoints else { throw fail("\(key) is not a list of numbers") }
        return try items.map {
            guard let v = $0.double else { throw fail("\(key) holds a value that is not a finite number") }
            return v
        }
    }

    /// Keypoints [[x, y] or null, ...], each inside the image (0 <= x < width, 0 <= y < height).
    static func keypoints(_ json: JSONValue, _ key: String, inside size: (width: Int, height: Int)) throws -> [KeypointPair.Point?] {
        guard case let .array(items)? = json[key], items.count <= maxKeypoints else { throw fail("\(key) is missing or has over \(maxKeypoints) entries") }
        return try items.enumerated().map { i, item in
            if item == .null { return nil }
            let xy = try numbers(item, "\(key)[\(i)]")
            guard xy.count == 2 else { throw fail("\(key)[\(i)] has \(xy.count) values, not [x, y]") }
            guard xy[0] >= 0, xy[0] < Double(size.width), xy[1] >= 0, xy[1] < Double(size.height) else {
                throw fail("\(key)[\(i)] (\(xy[0]), \(xy[1])) is outside the \(size.width)x\(size.height) image")
            }
            return (xy[0], xy[1])
        }
    }

    /// A box [x0, y0, x1, y1] with x0 < x1 and y0 < y1, inside the image.
    static func box(_ json: JSONValue, _ key: String, inside size: (width: Int, height: Int)) throws -> [Double] {
        let b = try json[key].map { try numbers($0, key) } ?? []
        guard b.count == 4, b[0] >= 0, b[1] >= 0, b[0] < b[2], b[1] < b[3], b[2] <= Double(size.width), b[3] <= Double(size.height) else {
            throw fail("\(key) \(b) is not a box [x0, y0, x1, y1] inside the \(size.width)x\(size.height) image")
        }
        return b
    }
}
