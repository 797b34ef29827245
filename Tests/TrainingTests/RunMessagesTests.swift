import Foundation
import Heads
import Images
import Support
@testable import Training
import XCTest

/// What the commands print and refuse, now made by the library: shard summaries, extract's
/// output rules, skipped-input lines, the probes' block choice, rerun's argument list.
extension RunFolderTests {
    func testShardSharesAndTheClosingLine() throws {
        let choice = try XCTUnwrap(ShardEnvironment.resolve(explicit: "1/3", shards: nil, environment: [:]))
        var share = ShardShare(name: "val", unit: "videos", range: 2..<4, total: 5)
        (share.extracted, share.reused) = (1, 1)
        XCTAssertEqual(share.line(choice), "shard 1/3 (from --shard) of val: videos 2..<4 of 5: 1 extracted, 1 already cached")
        share.skipped = [SkippedInput(path: "bad", reason: "unreadable")]
        XCTAssertTrue(share.line(choice).hasSuffix("1 already cached, 1 skipped"), share.line(choice))
        let parts = PartsOutcome(range: 0..<2, extracted: 2, reused: 0, skipped: [], parts: [0..<2])
        XCTAssertEqual(parts.share(of: "train", total: 6).line(choice), "shard 1/3 (from --shard) of train: images 0..<2 of 6: 2 extracted, 0 already cached")
        XCTAssertTrue(TaskShardOutcome(shares: [share], remaining: [0, 2]).closing(choice, cacheFolder: "/c")
            .hasPrefix("this shard's features are cached in /c; shards still to run: 0/3, 2/3; once every shard has run"))
        XCTAssertTrue(TaskShardOutcome(shares: [], remaining: []).closing(choice, cacheFolder: "/c").hasPrefix("all 3 shards' features are cached in /c: "))
        XCTAssertThrowsError(try TaskShardOutcome.cacheFolder(nil)) { XCTAssertTrue("\($0)".contains("drop --no-cache")) }
        XCTAssertEqual(try TaskShardOutcome.cacheFolder("/c"), "/c")
    }

    func testExtractClaimsItsFileAndChecksAShardFolder() throws {
        let file = root + "/features.safetensors"
        let claim = try ExtractionOutput.claimFile(file, overwrite: false)
        XCTAssertThrowsError(try ExtractionOutput.claimFile(file, overwrite: false), "a second run into the same file waits for no one")
        claim.release(removingFile: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try ExtractionOutput.claimFile(file, overwrite: false)) { XCTAssertTrue("\($0)".contains("already exists"), "\($0)") }
        try ExtractionOutput.claimFile(file, overwrite: true).release()
        XCTAssertTrue(FileManager.default.fileExists(atPath: file), "releasing a claim on an existing file keeps the file")
        let choice = try XCTUnwrap(ShardEnvironment.resolve(explicit: "0/2", shards: nil, environment: [:]))
        XCTAssertThrowsError(try ExtractionOutput.checkShardFolder(root, shard: choice, overwrite: true)) { XCTAssertTrue("\($0)".contains("does not apply to shards")) }
        XCTAssertThrowsError(try ExtractionOutput.checkShardFolder(file, shard: choice, overwrite: false)) { XCTAssertTrue("\($0)".contains("--out names a folder")) }
        XCTAssertNoThrow(try ExtractionOutput.checkShardFolder(root + "/shards", shard: choice, overwrite: false))
        let settings = ExtractionSettings(preprocessing: Preprocessing(), patchTokens: true, stages: [0, 2])
        XCTAssertEqual(ExtractionOutput.wroteLine("f", rows: 3, width: 384, settings: settings, skipped: 1),
                       "wrote f: 3 images x 384 features + patch tokens + stage maps 0,2, 1 skipped")
    }

    func testSkippedLinesNameTwentyAndCountTheRest() {
        XCTAssertEqual(RunFolder.skippedLines([], split: "val"), [])
        let skipped = (0..<23).map { SkippedInput(path: "img\($0).jpg", reason: "truncated") }
        let lines = RunFolder.skippedLines(skipped, split: "val")
        XCTAssertEqual(lines.count, 22)
        XCTAssertEqual(lines.first, "val: 23 input(s) skipped:")
        XCTAssertEqual(lines[1], "  img0.jpg: truncated")
        XCTAssertEqual(lines.last, "  ... and 3 more (see skipped-val.txt)")
    }

    func testProbeBlocksRefuseBlocksTheModelLacks() throws {
        let last = try ProbeBlocks(layers: [], blocks: 4).recipe(tokens: .cls, preprocessing: Preprocessing(), depth: 12)
        XCTAssertEqual(last, FeatureRecipe(tokens: .cls, blocks: 4))
        XCTAssertEqual(ProbeBlocks(layers: [2, 5], blocks: nil).count, 2)
        XCTAssertThrowsError(try ProbeBlocks(layers: [], blocks: 13).recipe(tokens: .cls, preprocessing: Preprocessing(), depth: 12)) {
            XCTAssertEqual("\($0)", "--blocks 13: the model has 12 blocks")
        }
        XCTAssertThrowsError(try ProbeBlocks(layers: [3, 12], blocks: nil).recipe(tokens: .cls, preprocessing: Preprocessing(), depth: 12)) {
            XCTAssertEqual("\($0)", "--layers 3,12: the model has blocks 0 to 11")
        }
    }

    func testRerunReplacesTheRecordedRunFolderFlags() throws {
        let record = root + "/run.json"
        let json = #"{"command": ["dinoprobe", "knn", "--data", "d", "--out", "old", "--overwrite"], "working_directory": "/w", "options": {}}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: record))
        let recorded = try RecordedRun(path: record)
        XCTAssertEqual(recorded.arguments(out: nil, overwrite: false), ["knn", "--data", "d"])
        XCTAssertEqual(recorded.arguments(out: "/new/../runs", overwrite: true), ["knn", "--data", "d", "--out", "/runs", "--overwrite"])
    }
}
