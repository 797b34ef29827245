import Foundation
import Support

/// The ImageFolder layout: `ROOT/train/<class>/<image>` and `ROOT/val/<class>/<image>`.
///
/// Classes are the train split's sub-folders in sorted order (label = position); val uses the
/// same classes and may leave some out. Image files are recognised by extension (.jpg, .jpeg,
/// .png in any case, and other image formats, which are listed so that they are reported as
/// skipped) and may sit in nested sub-folders of a class folder; hidden files and folders (names
/// starting with ".") and other files are ignored. Samples are in label order,
/// sorted by path within a class (torchvision's order).
public enum ImageFolderDataset {
    /// Lists one split of the ImageFolder at `root`. Everything is checked before any image is
    /// read: a missing root or split folder, fewer than 2 classes, an empty class folder, or a
    /// val class that train lacks are `DatasetError`s naming the folder.
    public static func load(root: String, split: DatasetSplit) throws -> ClassificationDataset {
        let root = FileSystem.absolute(root)
        let layoutHint = "expected the ImageFolder layout ROOT/train/<class>/*.jpg and ROOT/val/<class>/*.jpg"
        guard FileSystem.isDirectory(root) else {
            throw DatasetError.missingFolder(path: root, what: "data set folder", hint: layoutHint)
        }
        let trainFolder = root + "/train"
        guard FileSystem.isDirectory(trainFolder) else {
            throw DatasetError.missingFolder(path: trainFolder, what: "train split folder", hint: layoutHint)
        }
        let classIDs = try ImageFiles.subfolders(trainFolder)
        guard classIDs.count >= 2 else {
            let n = classIDs.count
            throw DatasetError.badClasses("\(trainFolder) has \(n) class folder\(n == 1 ? "" : "s"); a classifier needs at least 2 (one sub-folder of images per class)")
        }

        let splitFolder = root + "/" + split.rawValue
        guard FileSystem.isDirectory(splitFolder) else {
            throw DatasetError.missingSplit(split: split, path: splitFolder, hint: layoutHint)
        }
        let index = Dictionary(uniqueKeysWithValues: classIDs.enumerated().map { ($1, $0) })
        let splitClasses = split == .train ? classIDs : try ImageFiles.subfolders(splitFolder)
        var samples: [ClassificationSample] = []
        var problems: [SkippedInput] = []
        // One walker for the whole split: each real folder is listed once, and links back to
        // the split or the root are loops.
        var walker = DirectoryWalk(ancestors: [root, splitFolder])
        for name in splitClasses {
            let folder = splitFolder + "/" + name
            guard let label = index[name] else {
                throw DatasetError.badClasses("val class folder \(folder) has no matching class folder in \(trainFolder); every val class must also be a train class (check the folder name's spelling)")
            }
            let found = try ImageFiles.imagesRecursively(in: folder, walker: &walker)
            guard !found.images.isEmpty else {
                throw DatasetError.badClasses("class folder \(folder) holds no image files (.jpg, .jpeg or .png); add images to it or remove the folder")
            }
            samples += found.images.map { ClassificationSample(path: $0, label: label) }
            problems += found.problems
        }
        guard !samples.isEmpty else {
            throw DatasetError.emptySplit(folder: splitFolder, hint: "put one sub-folder per class in it, named as in \(trainFolder)")
        }
        var dataset = ClassificationDataset(root: root, split: split, samples: samples, classIDs: classIDs)
        dataset.listingProblems = problems
        return dataset
    }

    /// Both splits, checked together (`load(root:split:)` for train, then val).
    public static func loadBoth(root: String) throws -> (train: ClassificationDataset, val: ClassificationDataset) {
        (try load(root: root, split: .train), try load(root: root, split: .val))
    }
}
