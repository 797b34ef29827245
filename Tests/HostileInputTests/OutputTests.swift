import Foundation
import Support
import TestSupport
import XCTest

/// Class 8: outputs that are not regular files are refused (never replaced), the destination is
/// checked before any compute, interrupted runs leave no temporary files, stale ones are cleaned
/// up, two runs cannot fill one folder, and a full disk names the file and keeps the old one.
final class OutputTests: HostileTestCase {
    func extract(_ out: String, _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["extract", "--model", CLI.tinyModel, "--images", CLI.fixtureImages, "--out", out] + extra)
    }

    func testDevicesAndFIFOsAreNeverReplaced() throws {
        let null = try extract("/dev/null", ["--overwrite"])
        XCTAssertNotEqual(null.status, 0)
        XCTAssertTrue(null.stderr.contains("/dev/null is a character device"), null.stderr)
        var st = stat()
        XCTAssertEqual(stat("/dev/null", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "/dev/null is no longer a device")
        let fifo = temp + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let start = Date()
        let r = try extract(fifo, ["--overwrite"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is a FIFO"), r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertEqual(stat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
        // A run folder that is a file.
        try write("file", "x")
        let run = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", temp, "--out", temp + "/file"])
        XCTAssertTrue(run.stderr.contains("is a regular file, not a folder"), run.stderr)
    }

    func testTheDestinationIsCheckedBeforeAnyCompute() throws {
        try write("blocker", "a file where a folder should be")
        let r = try extract(temp + "/blocker/features.safetensors")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("blocker is a regular file, not a folder"), r.stderr)
        XCTAssertFalse(r.stderr.contains("model:"), "the model was loaded before the output was checked: \(r.stderr)")
        XCTAssertFalse(r.stderr.contains("extract:"), r.stderr)
        // An existing output is kept unless --overwrite.
        try write("old.safetensors", "previous results")
        let again = try extract(temp + "/old.safetensors")
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)
        XCTAssertEqual(try String(contentsOfFile: temp + "/old.safetensors", encoding: .utf8), "previous results")
    }

    func testInterruptedRunsLeaveNoTemporaryFiles() throws {
        // Enough images that extraction with patch tokens is still running when Ctrl-C comes.
        let images = temp + "/many"
        XCTAssertEqual(try CLI.run(["synth", "classification", "--out", images, "--classes", "2", "--count", "400", "--size", "64"]).status, 0)
        let out = temp + "/out/features.safetensors"
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = ["extract", "--model", CLI.tinyModel, "--images", images + "/train", "--out", out, "--patch-tokens", "--batch-size", "4"]
        let errURL = URL(fileURLWithPath: temp + "/stderr")
        XCTAssertTrue(FileManager.default.createFile(atPath: errURL.path, contents: nil))
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the spool file exists, then interrupt.
        let deadline = Date().addingTimeInterval(60)
        var spooling = false
        while Date() < deadline && process.isRunning {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: temp + "/out"), names.contains(where: { $0.contains("~dinoprobe-tmp~") }) {
                spooling = true
                break
            }
            usleep(20_000)
        }
        XCTAssertTrue(spooling, "no temporary file appeared")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        let message = try String(contentsOf: errURL, encoding: .utf8)
        XCTAssertTrue(message.contains("interrupted: stopped; removed"), message)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: temp + "/out")) ?? []
        XCTAssertEqual(left, [], "left behind: \(left)")
    }

    func testStaleTemporaryFilesOfKilledRunsAreRemoved() throws {
        // A temporary file of a process of this host that no longer runs, and one of another host.
        let dead = ".features.safetensors~dinoprobe-tmp~\(TemporaryFiles.host)~999999~1"
        let foreign = ".features.safetensors~dinoprobe-tmp~elsewhere.example~12~1"
        try write("out/" + dead, "half-written")
        try write("out/" + foreign, "another machine's run")
        let r = try extract(temp + "/out/features.safetensors")
        XCTAssertEqual(r.status, 0, r.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: temp + "/out").sorted()
        XCTAssertEqual(names, [foreign, "features.safetensors"])
    }

    func testTwoRunsCannotFillOneFolder() throws {
        let folder = temp + "/run"
        let lock = try FolderLock(folder: folder)
        defer { lock.release() }
        for extra in [[String](), ["--overwrite"]] {
            let r = try CLI.run(["train-linear", "--model", CLI.tinyModel, "--data", temp, "--out", folder] + extra)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("is in use by another dinoprobe run (host \(TemporaryFiles.host), process \(getpid()))"), r.stderr)
        }
    }

    func testAFullDiskNamesTheFileAndKeepsThePreviousOne() throws {
        let out = temp + "/features.safetensors"
        XCTAssertEqual(try extract(out).status, 0)
        let previous = try Data(contentsOf: URL(fileURLWithPath: out))
        // A file-size limit makes writes fail as a full disk does (EFBIG instead of ENOSPC).
        let r = try CLI.shell("""
            ulimit -f 64; trap '' XFSZ
            "$DINOPROBE" extract --model '\(CLI.tinyModel)' --images '\(CLI.fixtureImages)' --out '\(out)' --patch-tokens --overwrite
            """)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("cannot write \(out)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("File too large"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), previous)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp).filter { $0.contains("dinoprobe-tmp") }, [])
    }
}
