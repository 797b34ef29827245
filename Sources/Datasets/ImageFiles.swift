import Foundation
import Images
import Support

/// Listing image files: recognised by extension (JPEG and PNG, which are decoded, and other
/// image formats, which are listed so that they are reported as skipped instead of silently
/// ignored), hidden entries skipped, sorted by name. Names that are not UTF-8 are kept exactly
/// (see `PathCodec`). Folder walks visit each real folder once, so symbolic-link loops end.
public enum ImageFiles {
    static func isImage(_ name: String) -> Bool {
        guard !ByteText.hasPrefix(name, ".") else { return false }
        return ImageFormat.recognisedExtensions.contains(ByteText.pathExtension(of: name).lowercased())
    }

    /// Names in `folder` that do not start with ".", sorted; throws if it cannot be read.
    static func visibleEntries(_ folder: String) throws -> [String] {
        do {
            return try FileSystem.list(folder).filter { !$0.hasPrefix(".") }
        } catch { throw DatasetError.badFile(path: folder, reason: "cannot list the folder (\(error)); check its permissions") }
    }

    /// Visible sub-folders of `folder`, sorted by name.
    static func subfolders(_ folder: String) throws -> [String] {
        try visibleEntries(folder).filter { FileSystem.isDirectory(folder + "/" + $0) }
    }

    /// Image files directly in `folder` (not in sub-folders), as paths sorted by name.
    static func images(in folder: String) throws -> [String] {
        try visibleEntries(folder).filter { isImage($0) && !FileSystem.isDirectory(folder + "/" + $0) }.map { folder + "/" + $0 }
    }

    /// Image files in `folder` and its visible sub-folders (as torchvision's ImageFolder walks),
    /// sorted by relative path, with the sub-folders that could not be walked (loops, errors).
    static func imagesRecursively(in folder: String, walker: inout DirectoryWalk) throws -> (images: [String], problems: [SkippedInput]) {
        let walk: DirectoryWalk.Result
        do { walk = try walker.files(under: folder) } catch {
            throw DatasetError.badFile(path: folder, reason: "cannot list the folder (\(error))")
        }
        let images = walk.files.filter { isImage(ByteText.name(of: $0)) }
        return (images, walk.problems.map { SkippedInput(path: $0.path, reason: $0.reason) })
    }

    /// Files and folders named on a command line, expanded into image files: a file is taken as
    /// it is (whatever its extension), a folder is searched recursively.
    public static func expand(_ items: [String]) throws -> (images: [String], problems: [SkippedInput]) {
        var images: [String] = []
        var problems: [SkippedInput] = []
        for item in items {
            guard let status = try FileSystem.status(item) else { throw DatasetError.badFile(path: item, reason: "no such file or folder") }
            if status.kind != .directory {
                images.append(item)
                continue
            }
            var walker = DirectoryWalk()
            let found = try imagesRecursively(in: item.hasSuffix("/") && item.count > 1 ? String(item.dropLast()) : item, walker: &walker)
            images += found.images
            problems += found.problems
        }
        // A file named twice (or also via its folder) once. One folder's walk never repeats a file,
        // so a single input skips the set (a path for every image: memory that grows with the listing).
        if items.count > 1 {
            var seen = Set<[UInt8]>()  // bytes: a Set<String> takes "e\u{301}.jpg" and "\u{e9}.jpg" for one file
            images = images.filter { seen.insert(PathCodec.bytes(of: FileSystem.absolute($0))).inserted }
        }
        return (images, problems)
    }

    /// Names for per-image outputs that mirror where each image is, so that images of the same
    /// name in different folders never overwrite each other: the path relative to the current
    /// folder (or, outside it, the absolute path without its leading "/"), without the extension;
    /// where two images would still share a name (`a.jpg`, `a.png`), with the extension.
    public static func outputNames(for images: [String]) -> [String] {
        let base = FileSystem.absolute(FileManager.default.currentDirectoryPath) + "/"
        let relative = images.map { path -> String in
            let full = FileSystem.absolute(path)
            // On bytes: `hasPrefix`/`dropFirst` on Characters miss "/" + a combining mark.
            return ByteText.dropping(prefix: base, from: full) ?? String(full.unicodeScalars.drop { $0 == "/" })
        }
        let stems = relative.map { path -> String in
            let name = ByteText.name(of: path), ext = ByteText.pathExtension(of: name)
            return ext.isEmpty ? path : ByteText.dropping(suffix: "." + ext, from: path) ?? path
        }
        var counts: [String: Int] = [:]
        for stem in stems { counts[stem, default: 0] += 1 }
        return zip(stems, relative).map { counts[$0] == 1 ? $0 : $1 }
    }

    /// A data set's base folder: the first of `root` and the `nested` folders below it whose
    /// layout `holds` recognises.
    static func locateRoot(_ root: String, nested: [String], holds: (String) -> Bool) -> String? {
        ([root] + nested.map { root + "/" + $0 }).first(where: holds)
    }
}
