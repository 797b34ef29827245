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
        // Each line, as its bytes (PathCodec) and as UTF-8 text: the check's verdict must be a
        // byte-level reference's (a "/" before a combining mark or after U+0600 is still a "/").
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(64) {
            for entry in [PathCodec.string(fromBytes: line), String(decoding: line, as: UTF8.self)] {
                let accepted = ConfinedPath.problem(with: entry) == nil
                guard accepted == ListFixture.referenceAccepts(PathCodec.bytes(of: entry)) else {
                    fatalError("ConfinedPath \(accepted ? "accepted" : "refused") \(entry.debugDescription), unlike the byte-level rule")
                }
                if accepted { fixture.assertLexicallyInside(entry) }
            }
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
        } catch { return nil }
    }()

    var base: String { ByteText.parent(of: root) }

    /// Traps unless `path`, with its links resolved (as far as it exists), lies inside the root.
    func assertInside(_ path: String) {
        var candidate = path
        while !candidate.isEmpty {
            if let real = try? FileSystem.realPath(candidate) {
                guard ByteText.isInside(real, folder: realRoot) else { fatalError("a list reached \(real), outside \(realRoot)") }
                return
            }
            candidate = ByteText.parent(of: candidate)
        }
    }

    /// Traps unless `entry`, read as a relative path (on its bytes), never climbs above its folder.
    func assertLexicallyInside(_ entry: String) {
        var depth = 0
        let bytes = PathCodec.bytes(of: entry)
        guard bytes.first != 0x2F else { fatalError("the absolute path \(entry.debugDescription) was accepted") }
        for part in bytes.split(separator: 0x2F) {
            depth += part.elementsEqual([0x2E, 0x2E]) ? -1 : (part.elementsEqual([0x2E]) ? 0 : 1)
            guard depth >= 0 else { fatalError("\(entry.debugDescription) climbs out of its folder and was accepted") }
        }
    }

    /// The confinement rule on bytes, written out on its own: 1 to 4096 bytes, no control byte,
    /// and every "/"-separated component neither empty, "." nor ".." (so not absolute either).
    static func referenceAccepts(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 4096, !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return false }
        var component: [UInt8] = []
        for byte in bytes + [0x2F] {
            guard byte == 0x2F else { component.append(byte); continue }
            if component.isEmpty || component == [0x2E] || component == [0x2E, 0x2E] { return false }
            component = []
        }
        return true
    }
}
