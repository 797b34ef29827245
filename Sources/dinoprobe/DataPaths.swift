import CommandLineKit
import Datasets
import Evaluation
import Support

// Where data sets are read from and how their paths are written: local data before the
// backbone, paths in output files as given on the command line.

extension ClassificationDataOptions {
    /// Train and val splits of an ImageFolder given as --data, read before the backbone loads (so
    /// that their mistakes cost nothing); nil for a data set that may need downloading.
    func loadLocal() throws -> (train: ClassificationDataset, val: ClassificationDataset)? {
        guard let data, data.lowercased() != "imagenette" else { return nil }
        try Check.folder(data, "--data")
        return try ImageFolderDataset.loadBoth(root: data)
    }

    /// `paths` of this data set as given on the command line (below --data as typed); the
    /// paths of a downloaded data set stay absolute.
    func spelled(_ paths: [String]) -> [String] {
        guard let data, data.lowercased() != "imagenette" else { return paths }
        return paths.map { FileSystem.spelled($0, below: data) }
    }
}
