import Foundation
import SafeTensors
import TestSupport
import XCTest

/// The last release's spellings go through one table (CommandLineKit's DeprecatedSpellings):
/// each still works and is answered with a note naming today's spelling.
final class DeprecatedSpellingsCLITests: XCTestCase {
    func testOldExtractSpellingsWorkWithANoteEach() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("f.safetensors").path
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", CLI.fixtureImages, "--layers", "2", "--batch-size", "2", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        for note in ["--images is deprecated", "--layers N is deprecated; use --blocks N", "--batch-size is deprecated; use --extract-batch-size"] {
            XCTAssertTrue(r.stderr.contains("note: " + note), "\(note): \(r.stderr)")
        }
        let file = try SafeTensorsFile(path: out)
        XCTAssertEqual(file.metadata["layers"], "2", "--layers 2 meant the last two blocks")
        XCTAssertEqual(file.tensors["layers_cls"]?.shape.dropFirst(), [2, 48])
    }

    func testAListOfLayersAndOtherCommandsKeepTheirMeaning() throws {
        // train-seg's --layers are block indices: never rewritten; --resolution is renamed there.
        let r = try CLI.run(["train-seg", "--resolution", "100", "--data", "/nonexistent-dinoprobe"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("note: --resolution is deprecated; use --size"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--size is 100"), r.stderr)
        let bench = try CLI.run(["bench", "--grid", "--help"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        XCTAssertTrue(bench.stderr.contains("note: bench --grid is deprecated; use bench grid"), bench.stderr)
        XCTAssertTrue(bench.stdout.contains("linear-probe grid"), bench.stdout)
    }
}
