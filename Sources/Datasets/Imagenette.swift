import Foundation
import Hub
import Support

/// fast.ai's Imagenette: 10 easy ImageNet classes, 9,469 train and 3,925 val images, in the
/// ImageFolder layout `<stem>/train/<wnid>/*.JPEG`, `<stem>/val/<wnid>/*.JPEG`, plus
/// `<stem>/noisy_imagenette.csv`.
public enum Imagenette {
    /// The published sizes: full resolution, or the short side resized to 320 or 160 pixels.
    public enum Variant: String, Sendable, CaseIterable {
        case full, px320 = "320", px160 = "160"

        /// Parses "full", "320" or "160" (as typed after `--variant`).
        public init?(argument: String) {
            switch argument.lowercased() {
            case "full", "imagenette2": self = .full
            case "320", "imagenette2-320": self = .px320
            case "160", "imagenette2-160": self = .px160
            default: return nil
            }
        }

        /// The published facts: top folder, md5, archive bytes, rough size for messages.
        private var published: (stem: String, md5: String, bytes: Int64, size: String) {
            switch self {
            case .full: ("imagenette2", "fe2fc210e6bb7c5664d602c3cd71e612", 1_557_161_267, "1.5 GB")
            case .px320: ("imagenette2-320", "3df6f0d01a2c9592104656642f5e78a3", 341_663_724, "340 MB")
            case .px160: ("imagenette2-160", "e793b78cc4c9e9a4ccc0c1155377a412", 99_003_388, "95 MB")
            }
        }

        /// The archive's top folder, e.g. "imagenette2-320".
        public var stem: String { published.stem }
        public var archiveName: String { stem + ".tgz" }
        /// The published md5 of the archive.
        public var md5: String { published.md5 }
        /// The published archive's size in bytes: no download of it reads more.
        public var archiveBytes: Int64 { published.bytes }
        /// Rough archive size, for messages.
        public var approximateSize: String { published.size }

        /// The archive's URL under `baseURL` (a folder URL; a missing trailing "/" is added).
        public func url(baseURL: String = Imagenette.defaultBaseURL) -> URL? {
            URL(string: (baseURL.hasSuffix("/") ? baseURL : baseURL + "/") + archiveName)
        }
    }

    /// Where fast.ai publishes the archives.
    public static let defaultBaseURL = "https://s3.amazonaws.com/fast-ai-imageclas/"
    /// Environment variable that replaces `defaultBaseURL` (a folder URL holding the `.tgz` files).
    public static let baseURLVariable = "DINOPROBE_IMAGENETTE_URL"
    /// Environment variable naming a folder of data sets, searched after `--data-dir`.
    public static let dataVariable = "DINOPROBE_DATA"

    /// WordNet ids in label (sorted) order.
    public static let wnids = ["n01440764", "n02102040", "n02979186", "n03000684", "n03028079",
                               "n03394916", "n03417042", "n03425413", "n03445777", "n03888257"]
    /// Display names in label order.
    public static let names = ["tench", "English springer", "cassette player", "chain saw", "church",
                               "French horn", "garbage truck", "gas pump", "golf ball", "parachute"]
    /// wnid -> display name.
    public static let displayNames: [String: String] = Dictionary(uniqueKeysWithValues: zip(wnids, names))

    /// `$DINOPROBE_IMAGENETTE_URL` if set, else `defaultBaseURL`.
    public static func baseURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment[baseURLVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultBaseURL
    }

    /// Where a download goes unless told otherwise: `--data-dir`, else `$DINOPROBE_DATA`, else
    /// the user cache folder.
    public static func defaultDownloadFolder(dataDir: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dataDir, !dataDir.isEmpty { return FileSystem.absolute(dataDir) }
        if let v = environment[dataVariable], !v.isEmpty { return FileSystem.absolute(v) }
        return CacheFolders.datasets(environment)
    }

    /// The folders searched for data sets, in order: `dataDir` (`--data-dir`), `$DINOPROBE_DATA`,
    /// `base/datasets` (the repository's folder; `base` defaults to the current folder), and the
    /// user cache folder. Duplicates are dropped.
    public static func searchFolders(dataDir: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                                     base: String = FileManager.default.currentDirectoryPath) -> [String] {
        var folders: [String] = []
        if let dataDir, !dataDir.isEmpty { folders.append(FileSystem.absolute(dataDir)) }
        if let v = environment[dataVariable], !v.isEmpty { folders.append(FileSystem.absolute(v)) }
        folders.append(FileSystem.absolute(base + "/datasets"))
        folders.append(CacheFolders.datasets(environment))
        var seen = Set<String>()
        return folders.filter { seen.insert($0).inserted }
    }

    /// The root of a ready copy of `variant`: the first search folder (see `searchFolders`) that
    /// holds `<stem>/.dinoprobe-ready`, or that is itself such a root. A copy without the marker
    /// (an unfinished download) does not count. Throws `DatasetError.notFound` listing what was
    /// searched and how to get the data.
    public static func locate(variant: Variant = .px320, dataDir: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                              base: String = FileManager.default.currentDirectoryPath) throws -> String {
        var searched: [String] = []
        for folder in searchFolders(dataDir: dataDir, environment: environment, base: base) {
            if ByteText.name(of: folder) == variant.stem, DatasetInstaller.isReady(folder) { return folder }
            let candidate = folder + "/" + variant.stem
            if DatasetInstaller.isReady(candidate) { return candidate }
            if FileSystem.isDirectory(candidate) {
                searched.append("\(candidate) (present but has no \(DatasetInstaller.readyMarker) marker: an unfinished download, or extracted by hand; if complete, `touch \(candidate)/\(DatasetInstaller.readyMarker)`)")
            } else {
                searched.append(candidate)
            }
        }
        let url = variant.url(baseURL: baseURL(environment: environment)).map(URLRedaction.redacted) ?? variant.archiveName
        throw DatasetError.notFound(name: variant.stem, searched: searched, hint: """
            Let dinoprobe download it (about \(variant.approximateSize)), or fetch \(url) yourself, check its md5 \(variant.md5), \
            extract it with `tar xzf` into one of these folders and create the marker file \(variant.stem)/\(DatasetInstaller.readyMarker).
            """)
    }

    /// Downloads, verifies and extracts `variant` into `folder` (see `DatasetInstaller.install`);
    /// returns the data set root. `baseURL` defaults to `$DINOPROBE_IMAGENETTE_URL` or fast.ai's;
    /// `expectedMD5` to the published sum; `maxBytes` (the most read) to the published size.
    public static func download(variant: Variant, to folder: String, baseURL: String? = nil, expectedMD5: String? = nil, maxBytes: Int64? = nil,
                                environment: [String: String] = ProcessInfo.processInfo.environment, idleTimeout: TimeInterval = 60,
                                progress: (@Sendable (DownloadProgress) -> Void)? = nil) throws -> String {
        let base = baseURL ?? Self.baseURL(environment: environment)
        guard let url = variant.url(baseURL: base) else {
            throw DatasetError.downloadFailed(url: URLRedaction.redacted(base + variant.archiveName), reason: "not a valid URL; fix \(baseURLVariable) or the base URL given")
        }
        return try DatasetInstaller.install(url: url, md5: expectedMD5 ?? variant.md5, stem: variant.stem, into: folder,
                                            maxBytes: maxBytes ?? variant.archiveBytes, required: ["train", "val"], idleTimeout: idleTimeout, progress: progress)
    }

    /// One split of an Imagenette copy at `root`, with display names; `noisy` (1, 5, 25 or 50
    /// percent) relabels the train split from `noisy_imagenette.csv` (val keeps its true labels).
    public static func load(root: String, split: DatasetSplit, noisy: Int? = nil) throws -> ClassificationDataset {
        var dataset = try ImageFolderDataset.load(root: root, split: split)
        dataset.classNames = dataset.classIDs.map { displayNames[$0] ?? $0 }
        if let noisy, split == .train {
            let csv = dataset.root + "/noisy_imagenette.csv"
            let table = try NoisyLabels.read(csvAt: csv, percent: noisy)
            dataset = try NoisyLabels.relabel(dataset, with: table, csvPath: csv)
        }
        return dataset
    }
}
