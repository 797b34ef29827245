import ArgumentParser
import Backbone
import Foundation
import Training

/// Which classification data set, and where it lives.
struct DataOptions: ParsableArguments {
    @Option(help: "'imagenette' (found locally or downloaded), or an ImageFolder root holding train/<class>/* and val/<class>/*.")
    var data: String?

    @Option(help: "Folder searched first for (and receiving) a downloaded data set; also $DINOPROBE_DATA.")
    var dataDir: String?

    @Option(help: "Imagenette variant: 160, 320 or full.")
    var variant: String = "320"

    @Option(help: "Imagenette noisy labels: train on the CSV's 1, 5, 25 or 50 percent noisy labels.")
    var noisy: Int?

    @Flag(help: "Never download: fail if the data set is not present.")
    var noDownload = false

    func validate() throws {
        guard Imagenette.Variant(argument: variant) != nil else { throw ValidationError("--variant must be 160, 320 or full") }
        if let noisy, ![1, 5, 25, 50].contains(noisy) { throw ValidationError("--noisy must be 1, 5, 25 or 50") }
    }

    /// Train and val splits, validated before any compute is spent.
    func load() throws -> (train: ClassificationDataset, val: ClassificationDataset) {
        guard let data else { throw ValidationError("--data is required: 'imagenette' or an ImageFolder root") }
        if data.lowercased() == "imagenette" {
            guard let v = Imagenette.Variant(argument: variant) else { throw ValidationError("--variant must be 160, 320 or full") }
            let root: String
            do {
                root = try Imagenette.locate(variant: v, dataDir: dataDir)
            } catch let error as DatasetError {
                guard !noDownload, case .notFound = error else { throw error }
                let folder = Imagenette.defaultDownloadFolder(dataDir: dataDir)
                stderrPrint("\(v.stem) is not present; downloading it into \(folder) (use --no-download to refuse)")
                let progress = DownloadLine()
                root = try Imagenette.download(variant: v, to: folder, progress: { progress.show($0) })
                progress.end()
            }
            stderrPrint("data: \(root)")
            return (try Imagenette.load(root: root, split: .train, noisy: noisy), try Imagenette.load(root: root, split: .val))
        }
        if noisy != nil { throw ValidationError("--noisy applies to --data imagenette only") }
        let both = try ImageFolderDataset.loadBoth(root: data)
        return (both.train, both.val)
    }
}

/// A live download line on standard error.
final class DownloadLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0

    func show(_ p: DownloadProgress) {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(last) > (interactive ? 0.2 : 15) else { return }
        last = Date()
        Console.errRaw((interactive ? "\r\u{1B}[K" : "") + p.description + (interactive ? "" : "\n"))
    }

    func end() { if interactive { Console.errRaw("\n") } }
}
