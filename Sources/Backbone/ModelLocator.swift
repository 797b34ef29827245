import Foundation
import Support

/// Finds a DINOv3 checkpoint from what the user typed: a folder path, Meta's `.pth` file, a Hugging
/// Face hub id present in the local cache, `$DINOPROBE_MODEL`, or the default ViT-S/16 id.
public enum ModelLocator {
    /// The model used when neither `--model` nor `$DINOPROBE_MODEL` says otherwise.
    public static let defaultModelID = "facebook/dinov3-vits16-pretrain-lvd1689m"

    /// Resolves `spec` (nil: `$DINOPROBE_MODEL`, then the default id) to a folder holding
    /// `config.json`, or to a `.pth` / `.pt` file (Meta's layout, read by `DINOv3Model`). The
    /// order: the path as typed, then for an ORG/NAME id the hub cache, then `./NAME` (what
    /// `git clone` of the hub repository leaves). With `downloading` (the caller downloads an id
    /// missing from the cache: `--download`), an ORG/NAME is a hub id only: the cache is searched,
    /// no folder of the working directory, so the hub wins over a folder that happens to share
    /// the name.
    public static func resolve(_ spec: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               downloading: Bool = false) throws -> URL {
        let requested = spec ?? environment["DINOPROBE_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultModelID
        var searched: [String] = []
        let id = hubID(requested)
        if !(downloading && id != nil), let found = local(requested, searched: &searched) { return found }
        if id == nil { throw BackboneError.noSuchModelPath(requested, similar: Suggestions.siblings(of: requested)) }
        if let (org, name) = id {
            for cache in CacheFolders.hub(environment).map({ URL(fileURLWithPath: $0) }) {
                let repo = cache.appendingPathComponent("models--\(org)--\(name)")
                if let snapshot = snapshot(in: repo) { return snapshot }
                searched.append("\(repo.path) (Hugging Face cache)")
            }
            if !downloading {
                let clone = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: clone.appendingPathComponent("config.json").path) { return clone }
                searched.append("\(clone.path) (a git clone in the current folder)")
            }
        }
        throw BackboneError.modelNotFound(spec: requested, searched: searched)
    }

    /// ORG and NAME of a spec shaped like a hub id: not a path starting with `/`, `.` or `~`,
    /// nor one whose first part is a folder here. Any other spec is a path.
    static func hubID(_ spec: String) -> (org: String, name: String)? {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !spec.hasPrefix("."), !spec.hasPrefix("~"),
              !FileSystem.isDirectory(String(parts[0])) else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// The checkpoint at the path `spec` (a folder with `config.json`, a `.pth`/`.pt` file, or a
    /// file inside such a folder); nil, noting what was there, otherwise.
    static func local(_ spec: String, searched: inout [String]) -> URL? {
        let fm = FileManager.default
        let expanded = (spec as NSString).expandingTildeInPath
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: expanded, isDirectory: &isDir) else {
            searched.append("\(expanded) (no such folder)")
            return nil
        }
        let file = URL(fileURLWithPath: expanded)
        if !isDir.boolValue, ["pth", "pt"].contains(file.pathExtension.lowercased()) { return file.standardizedFileURL }
        let folder = isDir.boolValue ? file : file.deletingLastPathComponent()
        if fm.fileExists(atPath: folder.appendingPathComponent("config.json").path) { return folder.standardizedFileURL }
        searched.append("\(folder.path) (a folder, but it has no config.json)")
        return nil
    }

    /// The folder that every file of the checkpoint in `folder` must resolve into: the folder
    /// itself, or for a snapshot of the Hugging Face cache (`models--ORG--NAME/snapshots/REV`),
    /// the repository folder, whose `blobs/` the snapshot's links point to.
    public static func confinementRoot(of folder: URL) -> URL {
        let standard = folder.standardizedFileURL
        let snapshots = standard.deletingLastPathComponent()
        let repository = snapshots.deletingLastPathComponent()
        if snapshots.lastPathComponent == "snapshots", repository.lastPathComponent.hasPrefix("models--") { return repository }
        return standard
    }

    /// The snapshot that `refs/main` points to, else any snapshot holding `config.json`.
    static func snapshot(in repo: URL) -> URL? {
        let fm = FileManager.default
        let snapshots = repo.appendingPathComponent("snapshots")
        // A ref names a commit: one folder name of hex digits, never a path.
        if let text = try? FileSystem.readText(repo.appendingPathComponent("refs/main").path, limit: 4096) {
            let ref = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !ref.isEmpty, ref.count <= 128, ref.allSatisfy(\.isHexDigit) {
                let folder = snapshots.appendingPathComponent(ref)
                if fm.fileExists(atPath: folder.appendingPathComponent("config.json").path) { return folder }
            }
        }
        let names = ((try? FileSystem.list(snapshots.path)) ?? []).filter { !$0.hasPrefix(".") }
        for name in names {
            let folder = snapshots.appendingPathComponent(name)
            if fm.fileExists(atPath: folder.appendingPathComponent("config.json").path) { return folder }
        }
        return nil
    }
}
