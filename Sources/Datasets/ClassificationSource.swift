import Foundation
import Support

/// Where a classification data set comes from and whether it may be downloaded: `imagenette`
/// (found locally, else downloaded unless `download` is false) or an ImageFolder root.
public struct ClassificationSource: Sendable {
    public var data: String
    public var dataDir: String?
    public var variant: Imagenette.Variant
    public var noisy: Int?
    public var download: Bool

    public init(data: String, dataDir: String? = nil, variant: Imagenette.Variant = .px320, noisy: Int? = nil, download: Bool = true) {
        (self.data, self.dataDir, self.variant, self.noisy, self.download) = (data, dataDir, variant, noisy, download)
    }

    /// Whether `data` names Imagenette (looked up, or downloaded) rather than a folder.
    public var isImagenette: Bool { data.lowercased() == "imagenette" }

    /// Train and val splits; a missing Imagenette is downloaded when allowed (`progress` follows the download).
    public func load(reporter: Reporter, progress: (@Sendable (DownloadProgress) -> Void)? = nil)
        throws -> (train: ClassificationDataset, val: ClassificationDataset) {
        guard isImagenette else { return try ImageFolderDataset.loadBoth(root: data) }
        let root: String
        do {
            root = try Imagenette.locate(variant: variant, dataDir: dataDir)
        } catch let error as DatasetError {
            guard download, case .notFound = error else { throw error }
            let folder = Imagenette.defaultDownloadFolder(dataDir: dataDir)
            reporter.note("\(variant.stem) is not present; downloading it into \(folder) (use --no-download to refuse)")
            root = try Imagenette.download(variant: variant, to: folder, progress: progress)
        }
        reporter.note("data: \(root)")
        return (try Imagenette.load(root: root, split: .train, noisy: noisy), try Imagenette.load(root: root, split: .val))
    }
}
