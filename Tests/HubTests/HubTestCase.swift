import Foundation
import Hub
import Support
import TestSupport
import XCTest

/// A temporary hub cache and a fake hub serving a fixture model, for each test.
class HubTestCase: XCTestCase {
    var temp = ""
    var hub: FakeHub!
    static let fixtures = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/models").path
    static let preprocessor = Data(#"{"image_processor_type": "DINOv3ViTImageProcessorFast", "size": {"height": 224, "width": 224}}"#.utf8)

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "dinoprobe-hub-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        hub?.stop()
        try? FileManager.default.removeItem(atPath: temp)
    }

    /// Serves the fixture model `fixture` as `repoID` (with a preprocessor config).
    func serve(_ fixture: String, as repoID: String = "acme/tiny") throws {
        var files: [String: Data] = ["preprocessor_config.json": Self.preprocessor]
        let folder = Self.fixtures + "/" + fixture
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        hub = try FakeHub(repoID: repoID, files: files)
    }

    var cache: String { temp + "/hub" }
    var repoFolder: String { cache + "/models--acme--tiny" }

    /// The environment of a user with no token and the fake hub as the endpoint.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HF_HUB_CACHE": cache, "HF_ENDPOINT": hub.endpoint, "HOME": temp + "/home"].merging(extra) { $1 }
    }

    func downloader(_ extra: [String: String] = [:], reporter: Reporter = SilentReporter()) throws -> HubDownloader {
        var downloader = HubDownloader(settings: try HubSettings(environment: environment(extra)), reporter: reporter)
        downloader.idleTimeout = 10
        return downloader
    }

    /// Files and links under `folder`, relative, sorted (empty when it does not exist).
    func tree(_ folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.sorted()
    }

    /// Asserts that `body` throws a `HubError` whose message holds every piece.
    func assertHubError<T>(_ body: @autoclosure () throws -> T, _ pieces: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is HubError, "expected a HubError, got \(type(of: error)): \(error)", file: file, line: line)
            for piece in pieces {
                XCTAssertTrue("\(error)".contains(piece), "'\(piece)' missing from: \(error)", file: file, line: line)
            }
        }
    }
}

/// Collects notes and finished tasks.
final class RecordingReporter: Reporter, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var notes: [String] = []
    private(set) var finished: [String] = []

    func task(_ name: String, total: Int?, unit: String) -> ProgressTask { RecordedTask(name: name, total: total, owner: self) }
    func note(_ message: String) { lock.lock(); notes.append(message); lock.unlock() }
    func record(_ line: String) { lock.lock(); finished.append(line); lock.unlock() }
}

final class RecordedTask: ProgressTask, @unchecked Sendable {
    let name: String
    let total: Int?
    weak var owner: RecordingReporter?
    init(name: String, total: Int?, owner: RecordingReporter) { self.name = name; self.total = total; self.owner = owner }
    func update(_ done: Int, note: String) {}
    func finish(_ done: Int, note: String) { owner?.record("\(name) \(done)/\(total ?? -1) \(note)") }
}
