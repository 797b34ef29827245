import Datasets
import Foundation
import Heads
import SafeTensors
import TestSupport
import XCTest

/// `extract --shard I/N`: shards extracted by separate processes equal one process bit for bit,
/// a killed shard continues where it stopped, shards of another run are refused, and every
/// consumer reads the folder directly.
final class ShardCLITests: XCTestCase {
    var dir: URL!
    let common = ["--model", CLI.tinyModel, "--size", "64", "--extract-batch-size", "8", "--threads", "1"]

    override func setUpWithError() throws { dir = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// A generated ImageFolder with one unreadable file in train.
    func makeData(perClass: Int = 24) throws -> String {
        let data = path("shapes")
        _ = try SyntheticData.makeClassificationFolder(root: data, classes: 4, perClass: perClass, valPerClass: 6, size: 32, seed: 3)
        try Data("broken".utf8).write(to: URL(fileURLWithPath: data + "/train/class_1/zz_broken.png"))
        return data
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func extract(_ input: String, _ out: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["extract", input, "--out", out] + common + extra, environment: environment)
    }

    func testFourShardsInFourProcessesEqualOneProcess() throws {
        let data = try makeData()
        let single = path("train.safetensors"), shards = path("train-shards")
        XCTAssertEqual(try extract(data + "/train", single).status, 0)
        // Four processes at once into one folder: the manifest takes every shard's mark.
        let run = try CLI.shell("""
            pids=(); for i in 0 1 2 3; do "$DINOPROBE" extract "\(data)/train" --out "\(shards)" \(common.joined(separator: " ")) --shard $i/4 \
              --checkpoint-every 0 > "\(path("log"))-$i" 2>&1 & pids+=($!); done
            for p in "${pids[@]}"; do wait $p || exit 1; done
            """)
        XCTAssertEqual(run.status, 0, (0..<4).map { (try? String(contentsOfFile: path("log-\($0)"), encoding: .utf8)) ?? "" }.joined())
        let manifest = try XCTUnwrap(try ShardManifest.read(folder: shards))
        XCTAssertEqual(manifest.done, [0, 1, 2, 3])
        let names = try FileManager.default.contentsOfDirectory(atPath: shards).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(names, ["manifest.json"] + (0..<4).map { "shard-0000\($0)-of-00004.safetensors" }, "no chunks or temporary files left")
        // Each shard is a features file of its own.
        let alone = try SafeTensorsFile(path: shards + "/shard-00002-of-00004.safetensors")
        XCTAssertEqual(alone.tensors["cls"]?.shape, [23, 48], "images 48..<72 less the broken one (class_1/zz_broken.png at 48)")

        // merge writes the single process's file byte for byte.
        let merged = path("merged.safetensors")
        let merge = try CLI.run(["merge", shards, "--out", merged])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertEqual(try bytes(merged), try bytes(single))

        // The folder reads as the file does (the val split sharded through RANK/WORLD_SIZE).
        let a = try FeaturesFile.read(path: shards), b = try FeaturesFile.read(path: single)
        XCTAssertEqual(a.features, b.features)
        XCTAssertEqual(a.paths, b.paths)
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(a.classNames, b.classNames)
        XCTAssertEqual(a.skipped, b.skipped)
        let valShards = path("val-shards"), valSingle = path("val.safetensors")
        XCTAssertEqual(try extract(data + "/val", valSingle).status, 0)
        for rank in 0..<2 {
            let r = try extract(data + "/val", valShards, environment: ["RANK": "\(rank)", "WORLD_SIZE": "2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("shard \(rank)/2 (from RANK/WORLD_SIZE)"), r.stderr)
        }

        // train-linear on the folders gives the head it gives on the files, bit for bit.
        func train(_ features: String, _ val: String, _ out: String) throws -> SafeTensorsFile {
            let r = try CLI.run(["train-linear", "--features-file", features, "--val-features-file", val, "--out", out,
                                 "--epochs", "2", "--iters-per-epoch", "20", "--batch-size", "16"])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try SafeTensorsFile(path: out + "/head.safetensors")
        }
        let fromFiles = try train(single, valSingle, path("run-files")), fromFolders = try train(shards, valShards, path("run-folders"))
        XCTAssertEqual(fromFiles.tensors.keys.sorted(), ["bias", "weight"])
        for name in ["weight", "bias"] {
            XCTAssertEqual(try fromFiles.withBytes(of: name) { Data($0) }, try fromFolders.withBytes(of: name) { Data($0) }, name)
        }
    }

    func testAKilledShardContinuesWhereItStoppedAndAFinishedShardIsKept() throws {
        let data = try makeData(perClass: 100)
        let single = path("single.safetensors"), shards = path("shards")
        XCTAssertEqual(try extract(data + "/train", single, ["--extract-batch-size", "4"]).status, 0)
        let args = ["extract", data + "/train", "--out", shards] + common + ["--extract-batch-size", "4", "--shard", "0/1", "--checkpoint-every", "0"]
        func chunks() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: shards)) ?? []).filter { $0.hasPrefix("shard-00000-of-00001.part-") }
        }

        // Killed outright (SIGKILL: no clean-up) once a few chunks are on disk.
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = args
        process.environment = CLI.childEnvironment([:])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while chunks().count < 3 && process.isRunning && Date() < deadline { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the shard finished before it could be killed")
        let kept = chunks().count
        XCTAssertGreaterThanOrEqual(kept, 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: shards + "/shard-00000-of-00001.safetensors"))

        // A checkpoint folder of an earlier dinoprobe is named, not silently left; a damaged chunk is named and extracted again.
        try FileManager.default.createDirectory(atPath: shards + "/shard-00000-of-00001.parts", withIntermediateDirectories: true)
        let damaged = try XCTUnwrap(chunks().sorted().last)
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: shards + "/" + damaged))
        let resumed = try CLI.run(args)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after image"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains(damaged + " is unusable"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("chunks of an earlier dinoprobe"), resumed.stderr)
        XCTAssertEqual(chunks(), [], "the chunks go once the shard is written")
        let merged = path("merged.safetensors")
        XCTAssertEqual(try CLI.run(["merge", shards, "--out", merged]).status, 0)
        XCTAssertEqual(try bytes(merged), try bytes(single), "resumed after \(kept) chunks")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: shards).filter { $0.contains("~dinoprobe-tmp~") }
        XCTAssertEqual(leftovers, [], "the killed run's temporary files are cleaned up")

        // A finished shard is never computed again.
        let shardFile = shards + "/shard-00000-of-00001.safetensors"
        let stamp = try FileManager.default.attributesOfItem(atPath: shardFile)[.modificationDate] as? Date
        let again = try CLI.run(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already finished"), again.stdout)
        XCTAssertFalse(again.stderr.contains("extract shard"), again.stderr)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: shardFile)[.modificationDate] as? Date, stamp)
    }

    func testShardsOfAnotherRunAreRefused() throws {
        let data = try makeData()
        let shards = path("shards")
        func shard(_ spec: String, _ extra: [String] = [], into folder: String? = nil, input: String? = nil) throws -> CLI.Result {
            try extract(input ?? data + "/train", folder ?? shards, ["--shard", spec] + extra)
        }
        XCTAssertEqual(try shard("0/2").status, 0)
        // Unfinished: every reader says which shards are missing.
        for attempt in [try CLI.run(["merge", shards, "--out", path("m.safetensors")]),
                        try CLI.run(["train-linear", "--features-file", shards, "--val-features-file", shards, "--out", path("run")])] {
            XCTAssertNotEqual(attempt.status, 0)
            XCTAssertTrue(attempt.stderr.contains("1 of its 2 shards are not finished (1)"), attempt.stderr)
        }
        for (spec, extra, input, fragment) in [("1/2", ["--size", "32"], nil, "the recipe"), ("1/3", [], nil, "the shard count"),
                                               ("1/2", [], data + "/val", "the image listing"), ("1/2", ["--extract-batch-size", "4"], nil, "the batch size")] {
            let r = try shard(spec, extra, input: input)
            XCTAssertNotEqual(r.status, 0, fragment)
            XCTAssertTrue(r.stderr.contains(fragment) && r.stderr.contains("remove the folder"), r.stderr)
        }
        XCTAssertEqual(try shard("1/2").status, 0)
        XCTAssertNoThrow(try FeaturesFile.read(path: shards))

        // A shard file of another run (other size) put in place of shard 1 is refused by readers and by the shard.
        let other = path("other")
        XCTAssertEqual(try shard("1/2", ["--size", "32"], into: other).status, 0)
        let name = "/shard-00001-of-00002.safetensors"
        try FileManager.default.removeItem(atPath: shards + name)
        try FileManager.default.copyItem(atPath: other + name, toPath: shards + name)
        XCTAssertThrowsError(try FeaturesFile.read(path: shards)) { XCTAssertTrue("\($0)".contains("another model, recipe or listing"), "\($0)") }
        let stale = try shard("1/2")
        XCTAssertNotEqual(stale.status, 0)
        XCTAssertTrue(stale.stderr.contains("another model, recipe or listing"), stale.stderr)

        // A shard that is a link out of the folder is not followed.
        try FileManager.default.removeItem(atPath: shards + name)
        try FileManager.default.createSymbolicLink(atPath: shards + name, withDestinationPath: other + name)
        XCTAssertThrowsError(try FeaturesFile.read(path: shards)) { XCTAssertTrue("\($0)".contains("outside"), "\($0)") }

        // A damaged manifest is refused, not guessed at.
        let manifestPath = shards + "/manifest.json"
        var manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: bytes(manifestPath)) as? [String: Any])
        manifest["done"] = [0, 1, 7]
        for (content, fragment) in [(try JSONSerialization.data(withJSONObject: manifest), "finished shards"), (Data("{".utf8), "manifest.json")] {
            try content.write(to: URL(fileURLWithPath: manifestPath))
            XCTAssertThrowsError(try FeaturesFile.read(path: shards)) { XCTAssertTrue("\($0)".contains(fragment), "\($0)") }
        }
        // A folder that is not a shard folder.
        XCTAssertThrowsError(try FeaturesFile.read(path: data)) { XCTAssertTrue("\($0)".contains("without manifest.json"), "\($0)") }
    }
}
