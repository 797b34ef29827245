import Datasets
import Foundation
import TestSupport
import XCTest

/// Output paths: `merge` never replaces the files it reads, and `segment` mirrors input folders
/// into --out with the names' own bytes.
final class OutputPathCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// `merge --overwrite` with --out naming the manifest or a shard, however spelled (a second
    /// spelling, a symbolic link, a hard link): refused before anything is written.
    func testMergeRefusesToReplaceItsOwnInputs() throws {
        let data = path("data"), shards = path("shards")
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 2, perClass: 3, valPerClass: 1, size: 32, seed: 1)
        let extract = try CLI.run(["extract", data + "/train", "--out", shards, "--model", CLI.tinyModel, "--size", "32", "--threads", "1",
                                   "--shard", "0/1", "--checkpoint-every", "0"])
        XCTAssertEqual(extract.status, 0, extract.stderr)
        let manifest = shards + "/manifest.json", shard = shards + "/shard-00000-of-00001.safetensors"
        let before = try [manifest, shard].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        try FileManager.default.createSymbolicLink(atPath: path("link.safetensors"), withDestinationPath: shard)
        try FileManager.default.linkItem(atPath: shard, toPath: path("hard.safetensors"))
        let outs = [manifest, shard, shards + "/../shards/manifest.json", path("link.safetensors"), path("hard.safetensors")]
        for out in outs {
            let r = try CLI.run(["merge", shards, "--out", out, "--overwrite"])
            XCTAssertNotEqual(r.status, 0, out)
            XCTAssertTrue(r.stderr.contains("which the merge reads") || r.stderr.contains("symbolic link"), "\(out): \(r.stderr)")
        }
        XCTAssertEqual(try [manifest, shard].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, before)
        let merged = try CLI.run(["merge", shards, "--out", path("merged.safetensors")])
        XCTAssertEqual(merged.status, 0, merged.stderr)
    }

    /// An image in a folder whose name is not UTF-8: segment's output folder has the same bytes
    /// (it was created with the internal U+10FFxx code points encoded as UTF-8).
    func testSegmentMirrorsNonUTF8FolderNames() throws {
        let r = try CLI.shell("""
            set -e; cd "\(dir.path)"; mkdir $'d\\xff'; cp "\(CLI.fixtureImages)/rgb_small_40x30.png" $'d\\xff/img.png'
            "$DINOPROBE" segment --model "\(CLI.tinyModel)" --clusters 2 --size 32 --threads 1 $'d\\xff/img.png' --out out
            test -f out/$'d\\xff'/img.pca.png
            test "$(ls out | LC_ALL=C grep -c $'\\xf4')" = 0
            """)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }
}
