import ArgumentParser
import Backbone
import Foundation
import Training
import Support

extension FeatureTokens: ExpressibleByArgument {}
extension ProbeOptimizer: ExpressibleByArgument {}

/// Where features are cached, and how fast they are extracted.
struct CacheOptions: ParsableArguments {
    @Option(help: "Feature cache folder (default: $DINOPROBE_CACHE or ~/.cache/dinoprobe/features).")
    var cacheDir: String?

    @Flag(help: "Extract features afresh and do not store them.")
    var noCache = false

    @Option(help: "Images per backbone forward pass.")
    var extractBatchSize: Int = 32

    func validate() throws {
        try Check.range(extractBatchSize, 1...4096, "--extract-batch-size")
    }

    var cache: FeatureCache {
        FeatureCache(folder: noCache ? nil : cacheDir.map { URL(fileURLWithPath: $0) } ?? FeatureCache.defaultFolder())
    }
}

/// An output folder held by this run: checked before any compute (a file in the way, an earlier
/// run's results without --overwrite, no write permission), created and locked so that a second
/// run into the same folder refuses to start, and removed again if the run ends without
/// writing anything into it.
final class RunFolder {
    let url: URL
    private let lock: FolderLock

    /// `path` nil: `runs/PREFIX-DATE`. `guarding`: a result file whose presence means an earlier
    /// run finished here (replaced only with `overwrite`).
    init(_ path: String?, prefix: String, overwrite: Bool, guarding file: String?) throws {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let folder = path ?? "runs/\(prefix)-\(formatter.string(from: Date()))"
        if let status = try FileSystem.status(folder), status.kind != .directory {
            throw ValidationError("--out \(folder) is \(status.kind.rawValue), not a folder")
        }
        if let file, FileSystem.exists(folder + "/" + file), !overwrite {
            throw ValidationError("\(folder) already holds a \(file) from an earlier run; choose another --out, or pass --overwrite")
        }
        try AtomicFile.checkFolderWritable(folder)
        lock = try FolderLock(folder: folder)
        url = URL(fileURLWithPath: folder)
    }

    /// Releases the folder (removing it if nothing was written into it).
    func close() { lock.releaseRemovingIfEmpty() }
}

/// Prints the skipped images of a split and writes them to the run folder.
func reportSkipped(_ skipped: [SkippedInput], split: String, folder: URL?) throws {
    guard !skipped.isEmpty else { return }
    stderrPrint("\(split): \(skipped.count) unreadable image(s) skipped:")
    for s in skipped.prefix(20) { stderrPrint("  \(s.path): \(s.reason)") }
    if skipped.count > 20 { stderrPrint("  ... and \(skipped.count - 20) more (see skipped-\(split).txt)") }
    if let folder {
        let text = skipped.map { "\($0.path)\t\($0.reason)" }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent("skipped-\(split).txt").path)
    }
}
