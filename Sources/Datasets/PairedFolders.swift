import Foundation
import Support

/// The plain "images + per-pixel targets" folder layouts (segmentation masks, depth maps):
/// `ROOT/images/{train,val}/NAME.jpg` beside `ROOT/<targets>/{train,val}/NAME.png`, or without
/// split folders (everything is train).
public enum PairedFolders {
    /// The image and target folders of `split`; throws `missingFolder`, `missingSplit` naming
    /// what is missing, with `hint` describing the layout.
    public static func folders(root: String, split: DatasetSplit, targets: String, hint: String) throws -> (images: String, targets: String) {
        guard FileSystem.isDirectory(root + "/images") else {
            throw DatasetError.missingFolder(path: root + "/images", what: "images folder", hint: hint)
        }
        let hasSplits = DatasetSplit.allCases.contains { FileSystem.isDirectory(root + "/images/" + $0.rawValue) }
        let found: (images: String, targets: String)
        if hasSplits {
            found = (root + "/images/" + split.rawValue, root + "/\(targets)/" + split.rawValue)
            guard FileSystem.isDirectory(found.images) else { throw DatasetError.missingSplit(split: split, path: found.images, hint: hint) }
        } else {
            guard split == .train else {
                throw DatasetError.missingSplit(split: split, path: root + "/images/val",
                                                hint: "this data set has no split folders, so all of ROOT/images is train; move validation pairs to ROOT/images/val and ROOT/\(targets)/val (and the rest to .../train)")
            }
            found = (root + "/images", root + "/\(targets)")
        }
        guard FileSystem.isDirectory(found.targets) else { throw DatasetError.missingFolder(path: found.targets, what: "\(targets) folder", hint: hint) }
        return found
    }

    /// One pair per image in `imageFolder` (not recursive), with target `targetFolder/<stem>.png`,
    /// sorted by image path. The target may be missing (the readers' checks report that).
    public static func pair(imageFolder: String, targetFolder: String) throws -> [(image: String, target: String)] {
        try ImageFiles.images(in: imageFolder).map { image in
            let stem = ByteText.stem(of: ByteText.name(of: image))
            return (image, targetFolder + "/" + stem + ".png")
        }
    }
}

/// Split lists and other line-per-entry files of a data set.
public enum ListFile {
    /// The file's text (at most 64 MiB of UTF-8); throws `DatasetError.badFile` naming it.
    public static func read(_ path: String) throws -> String {
        do { return try FileSystem.readText(path, limit: 64 << 20) } catch {
            throw DatasetError.badFile(path: path, reason: "cannot read it as text")
        }
    }

    /// The non-blank lines, trimmed, with their line numbers (1-based). Lines end at LF or CR LF;
    /// a CR elsewhere stays in its entry (and is refused there).
    public static func lines(of text: String) -> [(line: Int, text: String)] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated().compactMap { i, line in
            let id = line.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            return id.isEmpty ? nil : (i + 1, id)
        }
    }
}

extension FNV1a {
    /// Adds each file's path relative to `root`, its size, modification time and `extra(index)`
    /// (for the listing fingerprints that key feature caches).
    public mutating func combineFiles(_ paths: [String], root: String, extra: (Int) -> String = { _ in "" }) {
        for (i, path) in paths.enumerated() {
            combine(ByteText.relative(path, to: root) ?? path)
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            combine("\(size) \(mtime)\(extra(i))")
        }
    }
}
