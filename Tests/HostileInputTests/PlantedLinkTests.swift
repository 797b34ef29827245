import Datasets
import Foundation
import Support
import TestSupport
import XCTest

/// Class 4: a symbolic link planted at a name dinoprobe writes (a run's files, a cache part, a
/// checkpoint, a `segment` PNG, an `extract` output) is refused by name, with or without
/// --overwrite, and the file it points to keeps its bytes.
final class PlantedLinkTests: HostileTestCase {
    var data = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        data = temp + "/data"
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 2, perClass: 4, valPerClass: 2, size: 32, seed: 1)
    }

    /// A file outside every output folder, and a link to it at `name`.
    func plant(_ name: String) throws -> (target: String, bytes: Data) {
        let target = temp + "/outside/" + UUID().uuidString
        let bytes = Data("someone else's file \(UUID())".utf8)
        try FileManager.default.createDirectory(atPath: temp + "/outside", withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: target))
        try FileManager.default.createDirectory(atPath: (name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: name, withDestinationPath: target)
        return (target, bytes)
    }

    func assertUntouched(_ planted: (target: String, bytes: Data), file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: planted.target)), planted.bytes, "the link's target was written", file: file, line: line)
    }

    func trainLinear(_ run: String, _ extra: [String]) throws -> CLI.Result {
        try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--epochs", "1", "--iters-per-epoch", "1",
                     "--no-cache", "--out", run] + extra)
    }

    func assertRefused(_ r: CLI.Result, naming path: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, r.stdout, file: file, line: line)
        XCTAssertTrue(r.stderr.contains("\(path) is a symbolic link; dinoprobe never writes through a link"), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains("remove the link, or choose another output name"), r.stderr, file: file, line: line)
    }

    func testLinkedRunFilesAreRefusedWithAndWithoutOverwrite() throws {
        for (index, overwrite) in [false, true].enumerated() {
            let run = temp + "/run\(index)"
            // run.json is written before any compute; metrics.json after training.
            for name in ["run.json", "metrics.json"] {
                let planted = try plant(run + "/" + name)
                let r = try trainLinear(run, overwrite ? ["--overwrite"] : [])
                assertRefused(r, naming: run + "/" + name)
                try assertUntouched(planted)
                try FileManager.default.removeItem(atPath: run + "/" + name)
            }
        }
    }

    func testALinkedHeadIsRefusedWithOverwriteAndKeptWithout() throws {
        let run = temp + "/run"
        let planted = try plant(run + "/head.safetensors")
        let plain = try trainLinear(run, [])
        XCTAssertNotEqual(plain.status, 0)
        XCTAssertTrue(plain.stderr.contains("already holds a head.safetensors"), plain.stderr)
        assertRefused(try trainLinear(run, ["--overwrite"]), naming: run + "/head.safetensors")
        try assertUntouched(planted)
    }

    func testALinkedCheckpointIsNeverFollowed() throws {
        let run = temp + "/run"
        let planted = try plant(run + "/checkpoint.safetensors")
        let plain = try trainLinear(run, ["--checkpoint-every", "0"])
        XCTAssertTrue(plain.stderr.contains("holds an unfinished run"), plain.stderr)
        // --overwrite starts again: the link goes (as a link), checkpoints are new files.
        let again = try trainLinear(run, ["--checkpoint-every", "0", "--overwrite"])
        XCTAssertEqual(again.status, 0, again.stderr)
        try assertUntouched(planted)
    }

    func testALinkedCachePartIsRefused() throws {
        let cache = temp + "/cache", run = temp + "/run"
        let first = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--epochs", "1",
                                 "--iters-per-epoch", "1", "--cache-dir", cache, "--out", run])
        XCTAssertEqual(first.status, 0, first.stderr)
        let entry = try XCTUnwrap(try FileSystem.list(cache).first { $0.hasPrefix("train-") })
        try FileManager.default.removeItem(atPath: cache + "/" + entry)
        let part = cache + "/" + entry.replacingOccurrences(of: ".safetensors", with: ".part-0000000000-0000000008.safetensors")
        for overwrite in [false, true] {
            let planted = try plant(part)
            let r = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--epochs", "1",
                                 "--iters-per-epoch", "1", "--cache-dir", cache, "--out", temp + "/again"] + (overwrite ? ["--overwrite"] : []))
            assertRefused(r, naming: part)
            try assertUntouched(planted)
            try FileManager.default.removeItem(atPath: part)
        }
        XCTAssertEqual(try FileSystem.list(cache).filter { $0.contains("~dinoprobe-tmp~") }, [])
    }

    func testALinkedSegmentPNGIsRefused() throws {
        try FileManager.default.copyItem(atPath: CLI.fixtureImages + "/rgb_small_40x30.png", toPath: temp + "/image.png")
        let png = temp + "/seg/image.pca.png"
        let planted = try plant(png)
        let kept = try CLI.run(["segment", "--model", CLI.tinyModel, "image.png", "--size", "32", "--out", "seg"], in: URL(fileURLWithPath: temp))
        XCTAssertTrue(kept.status != 0 && kept.stderr.contains("image.pca.png"), "an existing file is kept without --overwrite: \(kept.stderr)")
        // With --overwrite, the link is still never written through.
        let r = try CLI.run(["segment", "--model", CLI.tinyModel, "image.png", "--size", "32", "--out", "seg", "--overwrite"],
                            in: URL(fileURLWithPath: temp))
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("seg/image.pca.png is a symbolic link; dinoprobe never writes through a link"), r.stderr)
        try assertUntouched(planted)
    }

    func testALinkedExtractOutputIsRefused() throws {
        let out = temp + "/features.safetensors"
        let planted = try plant(out)
        for extra in [[], ["--overwrite"]] {
            let r = try CLI.run(["extract", "--model", CLI.tinyModel, CLI.fixtureImages + "/rgb_small_40x30.png", "--out", out] + extra)
            assertRefused(r, naming: out)
            XCTAssertFalse(r.stderr.contains("model:"), "the model was loaded before the output was checked: \(r.stderr)")
        }
        try assertUntouched(planted)
    }
}
