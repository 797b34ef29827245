import Foundation
import TestSupport
import XCTest

/// `dinoprobe download` and `--download` against a fake hub on loopback (HF_ENDPOINT).
final class DownloadCLITests: XCTestCase {
    var hub: FakeHub!
    var home = ""

    override func setUpWithError() throws {
        var files = ["preprocessor_config.json": Data(#"{"size": {"height": 224, "width": 224}}"#.utf8)]
        for name in ["config.json", "model.safetensors"] {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: CLI.tinyModel + "/" + name))
        }
        hub = try FakeHub(repoID: "acme/tiny", files: files)
        home = try CLI.temporaryFolder().path
    }

    override func tearDown() {
        hub.stop()
        try? FileManager.default.removeItem(atPath: home)
    }

    var cache: String { home + "/hub" }
    var snapshot: String { cache + "/models--acme--tiny/snapshots/" + FakeHub.commit }

    /// A user without a token, with the fake hub as the endpoint and a cache of the test's own.
    func run(_ arguments: [String], _ extra: [String: String] = [:]) throws -> CLI.Result {
        let env = ["HOME": home, "HF_HOME": home + "/hf", "HF_HUB_CACHE": cache, "HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "",
                   "HF_TOKEN_PATH": "", "HF_HUB_OFFLINE": "", "HUGGINGFACE_HUB_CACHE": "", "DINOPROBE_MODEL": ""]
        return try CLI.run(arguments, environment: env.merging(extra) { $1 }, in: URL(fileURLWithPath: home))
    }

    func testDownloadFillsTheCacheThatOtherCommandsFind() throws {
        let first = try run(["download", "acme/tiny"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, snapshot + "\n", "the snapshot folder, for scripts")
        XCTAssertTrue(first.stderr.contains("model.safetensors: 0.3/0.3 MB"), first.stderr)
        XCTAssertTrue(first.stderr.contains("acme/tiny: 3 file(s) fetched (0.3 MB), 0 already in the cache"), first.stderr)
        let again = try run(["download", "acme/tiny"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("0 file(s) fetched (0.0 MB), 3 already in the cache"), again.stderr)

        let requests = hub.requests.count
        let info = try run(["info", "--model", "acme/tiny"], ["HF_ENDPOINT": "http://127.0.0.1:1"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains(snapshot), info.stdout)
        XCTAssertEqual(hub.requests.count, requests, "a model in the cache needs no network")
    }

    func testTheDownloadFlagIsTheOnlyWayOnline() throws {
        let refused = try run(["info", "--model", "acme/tiny"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("dinoprobe download acme/tiny"), refused.stderr)
        XCTAssertEqual(hub.requests.count, 0, "no silent network access")

        let fetched = try run(["info", "--model", "acme/tiny", "--download"])
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        XCTAssertTrue(fetched.stdout.contains(snapshot), fetched.stdout)
        let requests = hub.requests.count
        XCTAssertEqual(try run(["info", "--model", "acme/tiny", "--download"]).status, 0)
        XCTAssertEqual(hub.requests.count, requests, "--download fetches only what is missing")
    }

    func testOfflineGatedAndCutDownloadsSayWhatToDo() throws {
        let offline = try run(["download", "acme/tiny"], ["HF_HUB_OFFLINE": "1"])
        XCTAssertEqual(offline.status, 1)
        XCTAssertTrue(offline.stderr.contains("error: HF_HUB_OFFLINE is set, so acme/tiny is not downloaded"), offline.stderr)
        let offlineFlag = try run(["info", "--model", "acme/tiny", "--download"], ["HF_HUB_OFFLINE": "1"])
        XCTAssertTrue(offlineFlag.stderr.contains("HF_HUB_OFFLINE is set"), offlineFlag.stderr)
        XCTAssertEqual(hub.requests.count, 0)

        hub.misbehave { $0.status = 401; $0.errorCode = "GatedRepo" }
        let gated = try run(["download", "acme/tiny"])
        XCTAssertEqual(gated.status, 1)
        for piece in ["HTTP 401", "request access", "huggingface-cli login", "HF_TOKEN"] {
            XCTAssertTrue(gated.stderr.contains(piece), gated.stderr)
        }

        hub.misbehave { $0.status = nil; $0.cutFirstGet = ["model.safetensors"] }
        let cut = try run(["download", "acme/tiny"])
        XCTAssertEqual(cut.status, 1)
        XCTAssertTrue(cut.stderr.contains("stopped after 152476 of 304952 bytes"), cut.stderr)
        XCTAssertTrue(cut.stderr.contains("run the same command again to resume"), cut.stderr)
        let resumed = try run(["download", "acme/tiny"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("model.safetensors: resuming at 152476 of 304952 bytes"), resumed.stderr)
    }

    func testWithDownloadTheHubIDWinsOverAFolderOfTheSameName() throws {
        let clone = home + "/tiny"  // what `git clone` of some other acme/tiny would leave
        try FileManager.default.createDirectory(atPath: clone, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: CLI.tinyModel + "/" + name, toPath: clone + "/" + name)
        }
        let fetched = try run(["info", "--model", "acme/tiny", "--download"])
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        XCTAssertTrue(fetched.stdout.contains(snapshot), fetched.stdout)
        XCTAssertFalse(hub.requests.isEmpty, "the hub was asked")
        try FileManager.default.removeItem(atPath: cache)
        let local = try run(["info", "--model", "acme/tiny"])
        XCTAssertEqual(local.status, 0, local.stderr)
        XCTAssertTrue(local.stdout.contains(clone), "without --download, ./NAME is the documented fallback: \(local.stdout)")
    }

    func testCredentialsInHF_ENDPOINTAreNotEchoed() throws {
        let refused = try run(["download", "acme/tiny"], ["HF_ENDPOINT": "http://alice:s3cret@127.0.0.1:1"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("HF_ENDPOINT 'http://***@127.0.0.1:1' holds a user name or password"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("s3cret") || refused.stderr.contains("alice"), refused.stderr)
    }

    func testCtrlCStopsAStalledDownloadAtOnceAndKeepsThePart() throws {
        hub.misbehave { $0.stallHalfway = ["model.safetensors"] }
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = ["download", "acme/tiny"]
        process.environment = CLI.childEnvironment(["HOME": home, "HF_HOME": home + "/hf", "HF_HUB_CACHE": cache, "HF_ENDPOINT": hub.endpoint,
                                                        "HF_TOKEN": "", "HF_TOKEN_PATH": "", "HF_HUB_OFFLINE": ""])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The part holds the half the server sent before it stalled (the CLI waits 60 s for more).
        let blobs = cache + "/models--acme--tiny/blobs"
        func partSize() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []
            guard let part = names.first(where: { $0.hasSuffix(".incomplete") }) else { return 0 }
            return (try? FileManager.default.attributesOfItem(atPath: blobs + "/" + part)[.size] as? Int) ?? 0
        }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline, partSize() < 152476 { usleep(20_000) }
        XCTAssertEqual(partSize(), 152476)
        let interrupted = Date()
        kill(process.processIdentifier, SIGINT)
        let exited = Watchdog.run(within: 5) { [process] in process.waitUntilExit() }
        XCTAssertNotNil(exited.result, "Ctrl-C did not stop the download within 5 s")
        XCTAssertLessThan(Date().timeIntervalSince(interrupted), 2)
        if exited.result == nil { process.terminate() }
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(partSize(), 152476, "the resumable part is kept")
    }
}
