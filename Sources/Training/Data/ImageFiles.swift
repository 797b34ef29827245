import Foundation

/// Listing image files: recognised by extension, hidden entries skipped, sorted.
enum ImageFiles {
    /// Extensions (lower case) of files treated as images.
    static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    static func isImage(_ name: String) -> Bool {
        guard !name.hasPrefix(".") else { return false }
        return extensions.contains((name as NSString).pathExtension.lowercased())
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Names in `folder` that do not start with ".", sorted; throws if it cannot be read.
    static func visibleEntries(_ folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DatasetError.badFile(path: folder, reason: "cannot list the folder (\(error.localizedDescription)); check its permissions")
        }
    }

    /// Visible sub-folders of `folder`, sorted by name.
    static func subfolders(_ folder: String) throws -> [String] {
        try visibleEntries(folder).filter { isDirectory(folder + "/" + $0) }
    }

    /// Image files directly in `folder` (not in sub-folders), as absolute paths sorted by name.
    static func images(in folder: String) throws -> [String] {
        try visibleEntries(folder).filter { isImage($0) && !isDirectory(folder + "/" + $0) }.map { folder + "/" + $0 }
    }

    /// Image files in `folder` and its visible sub-folders (as torchvision's ImageFolder walks),
    /// as absolute paths sorted by relative path.
    static func imagesRecursively(in folder: String) throws -> [String] {
        var result: [String] = []
        var relative: [String] = []
        func walk(_ path: String, _ prefix: String) throws {
            for name in try visibleEntries(path) {
                let full = path + "/" + name
                if isDirectory(full) {
                    try walk(full, prefix + name + "/")
                } else if isImage(name) {
                    relative.append(prefix + name)
                }
            }
        }
        try walk(folder, "")
        relative.sort()
        result = relative.map { folder + "/" + $0 }
        return result
    }

    /// `path` made absolute (against the current folder) and standardised, "~" expanded.
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(expanded)
        var p = url.standardizedFileURL.path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
