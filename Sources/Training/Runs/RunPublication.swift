import Evaluation
import Foundation
import Support

/// Publishes a run's results as a unit. The results are written into a hidden staging folder
/// inside the run folder (`path`); `publish` checks that every destination can be replaced,
/// seals the staging folder with a manifest, moves each result into the run folder (one rename
/// each), removes what the results make obsolete (the training checkpoint) and moves the
/// finished `run.json` in last. A run stopped at any moment leaves one of two states, which
/// `recover` settles: a staging folder without a manifest (discarded: nothing was published and
/// the checkpoint is still there), or a sealed one (the publishing is finished).
public final class RunPublication {
    /// The staging folder's name inside the run folder.
    public static let folderName = ".staging"
    static let manifestName = ".manifest.json"
    static let recordName = "run.json"

    /// The run folder the results are published into.
    public let runFolder: String
    /// Where the results are written before they are published.
    public var path: String { Self.stagingPath(runFolder) }
    /// True once the manifest is written: from then on the results will be published, if not by
    /// this process then by `recover`.
    public private(set) var sealed = false
    /// Called with a name after each publishing step ("checked", "sealed", "moved NAME",
    /// "retired"); tests use it to interrupt publishing at every step.
    public var afterStep: ((String) throws -> Void)?

    /// Starts staging into an empty staging folder (an unsealed one left by a stopped run is removed).
    public init(runFolder: String) throws {
        self.runFolder = runFolder
        try Self.removeTree(Self.stagingPath(runFolder))
        try FileSystem.createDirectories(Self.stagingPath(runFolder))
    }

    /// Publishes `outputs` (names of files or folders staged in `path`) and `record` as run.json,
    /// which comes last; then removes `retiring` (names in the run folder). Refuses, before
    /// anything is published, a missing output or a destination that is not what it replaces.
    public func publish(outputs: [String], record: RunRecord, retiring: [String]) throws {
        for name in outputs + retiring {
            guard Self.isPlainName(name), !ByteText.same(name, Self.recordName) else {
                throw TrainingError.badOption("'\(name)' cannot be published: results are plain names inside the run folder")
            }
        }
        for name in outputs { try checkReplaceable(name) }
        try record.write(toFolder: path)
        try step("checked")
        try AtomicFile.write(MetricsReport.jsonData(Manifest(outputs: outputs, retiring: retiring)), to: path + "/" + Self.manifestName)
        sealed = true
        try step("sealed")
        try Self.complete(runFolder: runFolder, manifest: Manifest(outputs: outputs, retiring: retiring), afterStep: afterStep)
    }

    /// Removes the staging folder unless it is sealed (a run that failed before publishing).
    public func discard() {
        guard !sealed else { return }
        try? Self.removeTree(path)
    }

    /// What `recover` found in a run folder.
    public enum Recovery: Equatable, Sendable {
        /// No staging folder.
        case nothing
        /// Unsealed results of a stopped run, removed: nothing of them had been published.
        case discarded
        /// Sealed results of a stopped run, now published (these names).
        case completed([String])
    }

    /// Settles what a stopped run left in `runFolder` (call with the folder locked): finishes
    /// publishing sealed results, discards unsealed ones.
    public static func recover(runFolder: String) throws -> Recovery {
        let staging = stagingPath(runFolder)
        guard try FileSystem.status(staging, followLinks: false) != nil else { return .nothing }
        let manifestPath = staging + "/" + manifestName
        guard FileSystem.isRegularFile(manifestPath) else {
            try removeTree(staging)
            return .discarded
        }
        let value = try StrictJSON.parse(FileSystem.read(manifestPath, limit: 1 << 20))
        func names(_ key: String) throws -> [String] {
            guard case let .array(items)? = value[key] else {
                throw FileSystemError.io(path: manifestPath, operation: "read", reason: "'\(key)' is not a list of names")
            }
            return items.compactMap(\.string).filter(isPlainName)
        }
        let manifest = Manifest(outputs: try names("outputs"), retiring: try names("retiring"))
        try complete(runFolder: runFolder, manifest: manifest, afterStep: nil)
        return .completed(manifest.outputs + [recordName])
    }

    /// The names a sealed staging folder publishes, and the run-folder files it retires.
    struct Manifest: Encodable {
        let outputs: [String]
        let retiring: [String]
    }

    static func stagingPath(_ runFolder: String) -> String { runFolder + "/" + folderName }

    /// A name inside the run folder that is none of the publishing's own (the staging folder,
    /// its manifest, what it renames aside, the folder lock).
    /// Judged on bytes (`ByteText`): `"../\u{301}x".contains("/")` is false for `String`, whose
    /// `Character` "/\u{301}" is not "/", and a manifest on disk may hold any name.
    static func isPlainName(_ name: String) -> Bool {
        let bytes = PathCodec.bytes(of: name)
        return !bytes.isEmpty && !bytes.contains(ByteText.slash) && !bytes.contains(0)
            && ![".", "..", folderName, manifestName, FolderLock.fileName].contains { ByteText.same(name, $0) }
            && !ByteText.hasPrefix(name, ".replaced-")
    }

    /// Moves what is still staged into place (so it can run again after any interruption),
    /// retires the obsolete files, moves run.json in and removes the staging folder.
    private static func complete(runFolder: String, manifest: Manifest, afterStep: ((String) throws -> Void)?) throws {
        let staging = stagingPath(runFolder)
        for name in manifest.outputs {
            try move(staging + "/" + name, to: runFolder + "/" + name, replacedAside: staging + "/.replaced-" + name)
            try afterStep?("moved \(name)")
        }
        for name in manifest.retiring { try FileSystem.removeFile(runFolder + "/" + name) }
        try afterStep?("retired")
        try move(staging + "/" + recordName, to: runFolder + "/" + recordName, replacedAside: staging + "/.replaced-" + recordName)
        try removeTree(staging)
    }

    /// Renames `source` over `destination` (nothing to do when `source` is gone: moved already).
    /// A folder destination is first renamed aside, as rename cannot replace a non-empty folder.
    private static func move(_ source: String, to destination: String, replacedAside aside: String) throws {
        guard let staged = try FileSystem.status(source, followLinks: false) else { return }
        if staged.kind == .directory, try FileSystem.status(destination, followLinks: false)?.kind == .directory {
            try FileSystem.rename(destination, to: aside)
        }
        try FileSystem.rename(source, to: destination)
    }

    /// Throws unless `name` is staged and its destination is absent or of a kind it replaces:
    /// a folder for a folder; a regular file for a file. A symbolic link is refused, as
    /// `AtomicFile` refuses one: what it points to may be the user's.
    private func checkReplaceable(_ name: String) throws {
        guard let staged = try FileSystem.status(path + "/" + name, followLinks: false) else {
            throw FileSystemError.notFound(path: path + "/" + name)
        }
        let destination = runFolder + "/" + name
        guard let existing = try FileSystem.status(destination, followLinks: false) else { return }
        if existing.kind == .symlink { throw FileSystemError.symbolicLink(path: destination) }
        let fits = staged.kind == .directory ? existing.kind == .directory : existing.kind == .regular
        guard fits else {
            throw FileSystemError.wrongKind(path: destination, kind: existing.kind.rawValue,
                                            expected: staged.kind == .directory ? "a folder dinoprobe can replace" : "a regular file dinoprobe can replace")
        }
    }

    private func step(_ name: String) throws { try afterStep?(name) }

    /// Removes `path` and everything under it, never following symbolic links; fine if it is gone.
    static func removeTree(_ path: String) throws {
        guard let status = try FileSystem.status(path, followLinks: false) else { return }
        guard status.kind == .directory else { return try FileSystem.removeFile(path) }
        for name in try FileSystem.list(path) { try removeTree(path + "/" + name) }
        guard FileSystem.removeEmptyDirectory(path) else {
            throw FileSystemError.io(path: path, operation: "remove the folder", reason: String(cString: strerror(errno)))
        }
    }
}
