import Datasets
import Foundation
import Support
import TestSupport
import XCTest

/// Class 8: runs sharing a feature cache extract each entry once (a second run waits for the
/// first and reads what it made), never read a half-made part and leave none behind; what a
/// killed run left is made again; two extracts into one new --out never both "succeed".
final class ConcurrentRunTests: HostileTestCase {
    /// A data set and the cache one run alone fills from it, made once for the class.
    nonisolated(unsafe) static var shared = ""
    nonisolated(unsafe) static var expected: [String: Data] = [:]
    var data: String { Self.shared + "/data" }

    override class func setUp() {
        super.setUp()
        shared = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-concurrent-\(UUID().uuidString)").path
        _ = try? SyntheticData.makeClassificationFolder(root: shared + "/data", classes: 2, perClass: 8, valPerClass: 2, size: 32, seed: 4)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: shared)
        super.tearDown()
    }

    func trainArguments(cache: String, out: String) -> [String] {
        ["train-linear", "--model", CLI.tinyModel, "--data", data, "--size", "32", "--epochs", "1", "--iters-per-epoch", "1",
         "--cache-dir", cache, "--out", out]
    }

    /// The cache's files and their bytes.
    func contents(_ cache: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileSystem.list(cache) { files[name] = try Data(contentsOf: URL(fileURLWithPath: cache + "/" + name)) }
        return files
    }

    /// A cache filled by one run alone (the first test to ask runs it).
    func reference() throws -> [String: Data] {
        if Self.expected.isEmpty {
            let r = try CLI.run(trainArguments(cache: Self.shared + "/reference", out: Self.shared + "/reference-run"))
            XCTAssertEqual(r.status, 0, r.stderr)
            Self.expected = try contents(Self.shared + "/reference")
        }
        return Self.expected
    }

    /// Starts dinoprobe without waiting; its standard error goes to `stderr`.
    func start(_ arguments: [String], stderr: String) throws -> Process {
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = arguments
        process.environment = CLI.childEnvironment([:])
        XCTAssertTrue(FileManager.default.createFile(atPath: stderr, contents: nil))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits until `file` holds `text` (or `process` ended); returns whether it does.
    func waitFor(_ text: String, in file: String, while process: Process) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if (try? String(contentsOfFile: file, encoding: .utf8))?.contains(text) == true { return true }
            if !process.isRunning { break }
            usleep(10_000)
        }
        return (try? String(contentsOfFile: file, encoding: .utf8))?.contains(text) == true
    }

    func testTwoRunsSharingACacheBothSucceedWithTheFeaturesOfOne() throws {
        let expected = try reference()
        XCTAssertEqual(expected.keys.count, 2, "\(expected.keys)")
        let cache = temp + "/shared"
        let script = [1, 2].map { i in
            (["\"$DINOPROBE\""] + trainArguments(cache: cache, out: temp + "/run\(i)").map { "'\($0)'" })
                .joined(separator: " ") + " > '\(temp)/out\(i)' 2>&1 & p\(i)=$!"
        }.joined(separator: "\n") + "\nwait $p1; s1=$?; wait $p2; s2=$?; echo \"$s1 $s2\""
        let r = try CLI.shell(script)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0 0",
                       (try? String(contentsOfFile: temp + "/out1", encoding: .utf8) + String(contentsOfFile: temp + "/out2", encoding: .utf8)) ?? "")
        XCTAssertEqual(try contents(cache), expected, "the shared cache holds the single run's entries, bit for bit, and nothing else")
    }

    func testARunWaitsForTheRunMakingAnEntryAndReadsIt() throws {
        let expected = try reference()
        let train = try XCTUnwrap(expected.keys.first { $0.hasPrefix("train-") })
        let cache = temp + "/shared"
        // This process makes the train entry: the run must wait for it, then read it.
        let claim = try FolderLock.claim(cache + "/" + train)
        let log = temp + "/stderr"
        let process = try start(trainArguments(cache: cache, out: temp + "/run"), stderr: log)
        defer { if process.isRunning { process.terminate() } }
        XCTAssertTrue(waitFor("waiting for another dinoprobe run (host \(TemporaryFiles.host), process \(getpid()))", in: log, while: process),
                      (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        XCTAssertTrue(process.isRunning, "the run did not wait")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache + "/" + train), "the run made the entry another process claimed")
        try AtomicFile.write(expected[train]!, to: cache + "/" + train)
        claim.release(removingFile: true)
        process.waitUntilExit()
        let message = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, message)
        XCTAssertTrue(message.contains("train: 16 feature rows from the cache"), message)
        XCTAssertEqual(try contents(cache), expected)
    }

    func testWhatAKilledRunLeftIsMadeAgain() throws {
        let expected = try reference()
        let train = try XCTUnwrap(expected.keys.first { $0.hasPrefix("train-") })
        let stem = String(train.dropLast(".safetensors".count)), cache = temp + "/shared"
        // A run killed on another machine sharing the cache: its lock file (no longer held), a
        // half-written part and a damaged one.
        try write("shared/." + train + ".lock", "host elsewhere.example, process 12\n")
        try write("shared/." + stem + ".part-0000000000-0000000016.safetensors~dinoprobe-tmp~elsewhere.example~12~1", "half a part")
        try write("shared/" + stem + ".part-0000000000-0000000008.safetensors", "damaged")
        let r = try CLI.run(trainArguments(cache: cache, out: temp + "/run"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try contents(cache), expected, "what the killed run left is gone, the entries are made again")
    }

    func testASecondExtractIntoTheSameNewOutputRefuses() throws {
        let out = temp + "/features.safetensors"
        let arguments = ["extract", "--model", CLI.tinyModel, data + "/train", "--out", out]
        // While another run writes it.
        let claim = try FolderLock.claim(out)
        let held = try CLI.run(arguments)
        claim.release(removingFile: true)
        XCTAssertNotEqual(held.status, 0)
        XCTAssertTrue(held.stderr.contains("\(out) is being written by another dinoprobe run (host \(TemporaryFiles.host), process \(getpid()))"),
                      held.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // Two at once: one writes it, the other refuses (while it is written, or once it exists).
        let line = (["\"$DINOPROBE\""] + arguments.map { "'\($0)'" }).joined(separator: " ")
        let r = try CLI.shell("""
            \(line) > '\(temp)/out1' 2>&1 & p1=$!
            \(line) > '\(temp)/out2' 2>&1 & p2=$!
            wait $p1; s1=$?; wait $p2; s2=$?; echo "$s1 $s2"
            """)
        let outputs = try [1, 2].map { try String(contentsOfFile: temp + "/out\($0)", encoding: .utf8) }
        let statuses = r.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(statuses.count, 2, r.stdout)
        XCTAssertEqual(statuses.filter { $0 == "0" }.count, 1, "\(r.stdout) \(outputs)")
        let refusal = try XCTUnwrap(zip(statuses, outputs).first { $0.0 != "0" }?.1)
        XCTAssertTrue(refusal.contains("is being written by another dinoprobe run") || refusal.contains("already exists; choose another --out"), refusal)
        XCTAssertEqual(try FileSystem.list(temp).filter { $0.hasPrefix(".") }, [], "no lock or temporary file stays behind")
    }
}
