import Foundation
import Images
import Support

/// The plain segmentation layout, for your own data:
///
///     ROOT/classes.txt                 one class name per line; line 1 is label 0, line 2 label 1...
///     ROOT/images/train/NAME.jpg       (or .jpeg, .png)
///     ROOT/masks/train/NAME.png        same stem; grey value or palette index = label, 255 = ignore
///     ROOT/images/val/..., ROOT/masks/val/...
///
/// Split folders are optional: with images directly in `ROOT/images/` (and masks in
/// `ROOT/masks/`) everything is the train split and there is no val split. Masks must be PNG
/// (lossy formats change label values). With `reduceZeroLabel`, mask value 0 means "unlabelled"
/// and value v is class v - 1 (as ADE20K); classes.txt then still lists the real classes only.
public enum SegmentationFolder {
    /// Reads `classes.txt`: one name per line, 2 to 255 of them (255 is the ignore index), no
    /// empty line before the last name, no duplicates.
    public static func readClassNames(at path: String) throws -> [String] {
        let text: String
        do { text = try FileSystem.readText(path, limit: 1 << 20) } catch {
            throw DatasetError.badFile(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "cannot read it as UTF-8 text" : "no such file; write the class names there, one per line (line 1 = label 0)")
        }
        var names = text.components(separatedBy: .newlines).map { $0.trimmingCharacters(in: .whitespaces) }
        while names.last?.isEmpty == true { names.removeLast() }
        if let empty = names.firstIndex(of: "") {
            throw DatasetError.badFile(path: path, reason: "line \(empty + 1) is empty; every line names one class (line n is label n - 1)")
        }
        guard names.count >= 2 else { throw DatasetError.badFile(path: path, reason: "it names \(names.count) class(es); at least 2 are needed (e.g. background and object)") }
        guard names.count <= 255 else { throw DatasetError.badFile(path: path, reason: "it names \(names.count) classes; at most 255 fit in 8-bit masks (255 is the ignore value)") }
        var seen = Set<String>()
        if let duplicate = names.first(where: { !seen.insert($0).inserted }) {
            throw DatasetError.badFile(path: path, reason: "class '\(duplicate)' is listed twice")
        }
        return names
    }

    /// Lists `split` of the folder at `root` (see the type's documentation for the layout).
    public static func load(root: String, split: DatasetSplit, reduceZeroLabel: Bool = false) throws -> SegmentationDataset {
        let root = FileSystem.absolute(root)
        let hint = "expected ROOT/classes.txt, ROOT/images/{train,val}/NAME.jpg and ROOT/masks/{train,val}/NAME.png"
        guard FileSystem.isDirectory(root + "/images") else {
            throw DatasetError.missingFolder(path: root + "/images", what: "images folder", hint: hint)
        }
        let classNames = try readClassNames(at: root + "/classes.txt")
        let (images, masks) = try PairedFolders.folders(root: root, split: split, targets: "masks", hint: hint)
        let samples = try PairedFolders.pair(imageFolder: images, targetFolder: masks).map { SegmentationSample(image: $0.image, mask: $0.target) }
        guard !samples.isEmpty else { throw DatasetError.emptySplit(folder: images, hint: hint) }
        return SegmentationDataset(root: root, split: split, layout: .folder, samples: samples, classNames: classNames,
                                   palette: Palette.voc(count: classNames.count), reduceZeroLabel: reduceZeroLabel)
    }
}
