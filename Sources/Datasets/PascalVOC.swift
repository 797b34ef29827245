import Foundation
import Images
import Support

/// Pascal VOC 2012 segmentation: `JPEGImages/<id>.jpg`, palette-PNG masks
/// `SegmentationClass/<id>.png` (palette index = class, 255 = object borders, ignored), and the
/// split lists `ImageSets/Segmentation/{train,val}.txt` (one id per line).
public enum PascalVOC {
    /// The 21 class names in label order (0 = background).
    public static let classNames = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
                                    "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
                                    "pottedplant", "sheep", "sofa", "train", "tvmonitor"]

    /// The folder holding `JPEGImages/` and `SegmentationClass/`: `root`, `root/VOC2012` or
    /// `root/VOCdevkit/VOC2012`.
    public static func resolveRoot(_ root: String) -> String? {
        ImageFiles.locateRoot(root, nested: ["VOC2012", "VOCdevkit/VOC2012"]) {
            FileSystem.isDirectory($0 + "/JPEGImages") && FileSystem.isDirectory($0 + "/SegmentationClass")
        }
    }

    /// Lists `split` from its split list. Throws `DatasetError.missingFolder` for a missing folder
    /// or list, `emptySplit` for an empty list, and `ConfinedPath.Refusal` (naming the entry, the
    /// list and the line) for an entry that is not a plain name inside the data set folder (`..`,
    /// an absolute path, a control character, a symbolic link leading out of the folder): the
    /// whole list is refused. Listed images or masks that are missing stay in the list for
    /// `check`/`validate` to report.
    public static func load(root: String, split: DatasetSplit) throws -> SegmentationDataset {
        let given = FileSystem.absolute(root)
        let hint = "expected VOC2012/JPEGImages, VOC2012/SegmentationClass and VOC2012/ImageSets/Segmentation/{train,val}.txt"
        guard let base = resolveRoot(given) else {
            throw DatasetError.missingFolder(path: given + "/JPEGImages", what: "Pascal VOC images folder", hint: hint)
        }
        let list = base + "/ImageSets/Segmentation/" + split.rawValue + ".txt"
        guard FileManager.default.fileExists(atPath: list) else {
            throw DatasetError.missingSplit(split: split, path: list, hint: hint)
        }
        let text = try ListFile.read(list)
        let folder: ConfinedFolder
        do { folder = try ConfinedFolder(base) } catch { throw DatasetError.badFile(path: base, reason: "\(error)") }
        // Keyed by bytes: a [String: _] takes "e\u{301}" and "\u{e9}" (two files) for one id.
        var samples: [[UInt8]: (id: String, sample: SegmentationSample)] = [:]
        for (line, id) in ListFile.lines(of: text) where samples[PathCodec.bytes(of: id)] == nil {
            try ConfinedPath.checkName(id, listedIn: list, line: line)
            samples[PathCodec.bytes(of: id)] = (id, SegmentationSample(image: try folder.resolve("JPEGImages/" + id + ".jpg", listedIn: list, line: line),
                                                                       mask: try folder.resolve("SegmentationClass/" + id + ".png", listedIn: list, line: line)))
        }
        guard !samples.isEmpty else { throw DatasetError.emptySplit(folder: list, hint: "the split list names no images") }
        let ordered = samples.sorted { $0.value.id < $1.value.id || (!($1.value.id < $0.value.id) && $0.key.lexicographicallyPrecedes($1.key)) }
        return SegmentationDataset(root: base, split: split, layout: .voc, samples: ordered.map(\.value.sample),
                                   classNames: classNames, palette: Palette.voc(count: classNames.count))
    }
}
