import ArgumentParser
import Backbone
import Foundation
import Training

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

    var cache: FeatureCache {
        FeatureCache(folder: noCache ? nil : cacheDir.map { URL(fileURLWithPath: $0) } ?? FeatureCache.defaultFolder())
    }
}

/// A run folder: refuses to overwrite an earlier run's head unless asked. The folder is created
/// by the first file written into it, so a run that fails early leaves nothing behind.
func prepareRunFolder(_ path: String?, prefix: String, overwrite: Bool, guarding file: String) throws -> URL {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    let folder = URL(fileURLWithPath: path ?? "runs/\(prefix)-\(formatter.string(from: Date()))")
    if FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path) && !overwrite {
        throw ValidationError("\(folder.path) already holds a \(file) from an earlier run; choose another --out, or pass --overwrite")
    }
    return folder
}

/// Prints the skipped images of a split and writes them to the run folder.
func reportSkipped(_ skipped: [SkippedInput], split: String, folder: URL?) throws {
    guard !skipped.isEmpty else { return }
    stderrPrint("\(split): \(skipped.count) unreadable image(s) skipped:")
    for s in skipped.prefix(20) { stderrPrint("  \(s.path): \(s.reason)") }
    if skipped.count > 20 { stderrPrint("  ... and \(skipped.count - 20) more (see skipped-\(split).txt)") }
    if let folder {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = skipped.map { "\($0.path)\t\($0.reason)" }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: folder.appendingPathComponent("skipped-\(split).txt"), options: .atomic)
    }
}
