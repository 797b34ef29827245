import Datasets
import Foundation
import Support
import Training

extension FuzzTargets {
    /// List files and the confinement check: the input is written as a Pascal VOC split list, an
    /// NYU depth list and Imagenette's noisy-label CSV into a fixture data set (with a symbolic link inside the root
    /// that leads outside it, one that stays inside, and a secret file next to the root), then
    /// loaded. Every sample a load accepts must resolve inside the root; every entry
    /// `ConfinedPath` accepts on its text alone must stay inside lexically.
    @Sendable public static func lists(_ data: Data) {
        guard let fixture = ListFixture.shared else { return }
        try? data.write(to: URL(fileURLWithPath: fixture.vocList))
        if let dataset = try? PascalVOC.load(root: fixture.root, split: .train) {
            for sample in dataset.samples { fixture.assertInside(sample.image); fixture.assertInside(sample.mask) }
        }
        try? data.write(to: URL(fileURLWithPath: fixture.nyuList))
        if let dataset = try? DepthDataset.load(root: fixture.root, split: .train, layout: .nyu) {
            for sample in dataset.samples { fixture.assertInside(sample.image); fixture.assertInside(sample.depth) }
        }
        try? data.write(to: URL(fileURLWithPath: fixture.noisyCSV))
        if let table = try? NoisyLabels.read(csvAt: fixture.noisyCSV, percent: 0) {
            for name in table.keys { fixture.assertLexicallyInside(name) }
        }
        let text = String(decoding: data, as: UTF8.self)
        for entry in text.split(separator: "\n").prefix(64).map(String.init) where ConfinedPath.problem(with: entry) == nil {
            fixture.assertLexicallyInside(entry)
        }
    }
}

/// The data set folder the `lists` target loads: `root/VOC2012` with `JPEGImages/a.jpg`,
/// `JPEGImages/in.jpg` (a link to `a.jpg`), `JPEGImages/out.jpg` and `JPEGImages/outdir` (links to
/// `../../../outside`), and `outside/secret.jpg` next to the root. Made once per process in the
/// temporary folder and removed at exit.
struct ListFixture: Sendable {
    let root: String
    let realRoot: String
    var vocList: String { root + "/VOC2012/ImageSets/Segmentation/train.txt" }
    var noisyCSV: String { root + "/noisy.csv" }
    var nyuList: String { root + "/nyu_train.txt" }

    static let shared: ListFixture? = {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-fuzz-lists-\(getpid())").path
        let fm = FileManager.default
        let voc = base + "/root/VOC2012"
        do {
            for folder in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] {
                try fm.createDirectory(atPath: voc + "/" + folder, withIntermediateDirectories: true)
            }
            try fm.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
            for file in [voc + "/JPEGImages/a.jpg", voc + "/SegmentationClass/a.png", base + "/outside/secret.jpg"] {
                guard fm.createFile(atPath: file, contents: Data([0])) else { return nil }
            }
            try fm.createSymbolicLink(atPath: voc + "/JPEGImages/in.jpg", withDestinationPath: "a.jpg")
            try fm.createSymbolicLink(atPath: voc + "/JPEGImages/out.jpg", withDestinationPath: "../../../outside/secret.jpg")
            try fm.createSymbolicLink(atPath: voc + "/JPEGImages/outdir", withDestinationPath: "../../../outside")
            atexit { try? FileManager.default.removeItem(atPath: ListFixture.shared?.base ?? "") }
            return ListFixture(root: base + "/root", realRoot: try FileSystem.realPath(base + "/root"))
        } catch {
            return nil
        }
    }()

    var base: String { ByteText.parent(of: root) }

    /// Traps unless `path`, with its links resolved (as far as it exists), lies inside the root.
    func assertInside(_ path: String) {
        var candidate = path
        while !candidate.isEmpty {
            if let real = try? FileSystem.realPath(candidate) {
                guard real == realRoot || real.hasPrefix(realRoot + "/") else { fatalError("a list reached \(real), outside \(realRoot)") }
                return
            }
            candidate = ByteText.parent(of: candidate)
        }
    }

    /// Traps unless `entry`, read as a relative path, never climbs above its folder.
    func assertLexicallyInside(_ entry: String) {
        var depth = 0
        guard !entry.hasPrefix("/") else { fatalError("the absolute path \(entry.debugDescription) was accepted") }
        for part in entry.split(separator: "/") {
            depth += part == ".." ? -1 : (part == "." ? 0 : 1)
            guard depth >= 0 else { fatalError("\(entry.debugDescription) climbs out of its folder and was accepted") }
        }
    }
}
