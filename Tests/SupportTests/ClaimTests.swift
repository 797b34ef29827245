import Foundation
import Support
import XCTest

/// The one claim mechanism (`FolderLock.claim`, `CacheEntry`): exclusive and shared claims, a
/// waiter that outlives a removed lock file, links refused, a cache entry made once by
/// concurrent makers, and what a killed maker left half-written removed.
final class ClaimTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-claim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func names() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

    /// Values shared with threads, under a lock.
    final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String] = []
        func add(_ value: String) { lock.lock(); values.append(value); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return values }
    }

    func testClaimsAreExclusiveOrSharedAndNamedInRefusals() throws {
        let file = folder + "/out.safetensors"
        let claim = try FolderLock.claim(file)
        XCTAssertEqual(names(), [".out.safetensors.lock"])
        XCTAssertThrowsError(try FolderLock.claim(file)) {
            XCTAssertEqual("\($0)", "\(file) is being written by another dinoprobe run (host \(TemporaryFiles.host), process \(getpid())); wait for it to finish, or choose another output name")
        }
        XCTAssertThrowsError(try FolderLock.claim(file, shared: true))
        claim.release(removingFile: true)
        XCTAssertEqual(names(), [], "the last holder removes the lock file")
        let first = try FolderLock.claim(file, shared: true), second = try FolderLock.claim(file, shared: true)
        XCTAssertThrowsError(try FolderLock.claim(file), "an exclusive claim waits for every shared one")
        first.release(removingFile: true)
        XCTAssertEqual(names(), [".out.safetensors.lock"], "a shared holder keeps the file while another holds it")
        second.release(removingFile: true)
        XCTAssertEqual(names(), [])
    }

    func testAWaiterWhoseLockFileWasRemovedLocksTheNewOne() throws {
        let file = folder + "/entry.safetensors"
        let holder = try FolderLock.claim(file)
        let events = Shared()
        let waiting = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread {
            do {
                let claim = try FolderLock.claim(file, wait: true) { events.add("waited for \($0)"); waiting.signal() }
                events.add("claimed")
                done.signal()
                Thread.sleep(forTimeInterval: 0.2)  // held while the test tries to claim it too
                claim.release(removingFile: true)
            } catch {
                events.add("failed: \(error)")
                waiting.signal()
                done.signal()
            }
        }.start()
        XCTAssertEqual(waiting.wait(timeout: .now() + 10), .success)
        holder.release(removingFile: true)  // the waiter locked the file now removed
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(events.all, ["waited for host \(TemporaryFiles.host), process \(getpid())", "claimed"])
        XCTAssertThrowsError(try FolderLock.claim(file), "two processes held one claim") { XCTAssertTrue("\($0)".contains("being written")) }
        let later = try FolderLock.claim(file, wait: true)
        later.release(removingFile: true)
        XCTAssertEqual(names(), [])
    }

    func testALinkAtALockFileIsRefused() throws {
        let outside = folder + "/outside"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createSymbolicLink(atPath: folder + "/.out.lock", withDestinationPath: outside)
        XCTAssertThrowsError(try FolderLock.claim(folder + "/out")) { XCTAssertTrue("\($0)".contains(".out.lock is a symbolic link"), "\($0)") }
        XCTAssertThrowsError(try FolderLock(folder: folder, name: ".out.lock")) { XCTAssertTrue("\($0)".contains("is a symbolic link")) }
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "keep")
    }

    func testConcurrentMakersOfOneEntryMakeItOnce() throws {
        let dir = folder, file = folder + "/train-key.safetensors"
        let made = Shared(), read = Shared()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do {
                let content = try CacheEntry.obtain(file, read: { try String(contentsOfFile: file, encoding: .utf8) }, make: {
                    made.add("made")
                    try AtomicFile.write(Data("part".utf8), to: dir + "/train-key.part-0-4.safetensors")
                    Thread.sleep(forTimeInterval: 0.1)  // the others arrive while it is made
                    try AtomicFile.write(Data("entry".utf8), to: file)
                    try FileSystem.removeFile(dir + "/train-key.part-0-4.safetensors")
                    return "entry"
                }, waiting: { _ in }, unusable: { made.add("unusable: \($0)") })
                read.add(content)
            } catch {
                read.add("failed: \(error)")
            }
        }
        XCTAssertEqual(made.all, ["made"])
        XCTAssertEqual(read.all, Array(repeating: "entry", count: 4))
        XCTAssertEqual(names(), ["train-key.safetensors"], "no part, lock or temporary file stays behind")
    }

    func testWhatAKilledMakerLeftIsRemovedAndMadeAgain() throws {
        let file = folder + "/val-key.safetensors"
        // Half-written files of makers that were killed, on this host and on another one, and a
        // damaged entry; a file of another entry is not touched.
        let halfWritten = [".val-key.part-0-8.safetensors~dinoprobe-tmp~elsewhere.example~12~1",
                           ".val-key.safetensors~dinoprobe-tmp~\(TemporaryFiles.host)~999999~2"]
        let other = ".val-other.safetensors~dinoprobe-tmp~elsewhere.example~12~1"
        for name in halfWritten + [other] { XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data("half".utf8))) }
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("damaged".utf8)))
        let notes = Shared()
        let content = try CacheEntry.obtain(file, read: {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            guard text == "whole" else { throw FileSystemError.io(path: file, operation: "read", reason: "damaged") }
            return text
        }, make: {
            notes.add("made with \(names().filter { $0.contains("~dinoprobe-tmp~") })")
            try AtomicFile.write(Data("whole".utf8), to: file)
            return "whole"
        }, waiting: { _ in }, unusable: { notes.add("unusable: \($0)") })
        XCTAssertEqual(content, "whole")
        XCTAssertEqual(notes.all, ["unusable: cannot read \(file): damaged", "made with [\"\(other)\"]"])
        XCTAssertEqual(names(), [other, "val-key.safetensors"])
        // A link at the entry is refused, never read or replaced.
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: folder + "/" + other)
        XCTAssertThrowsError(try CacheEntry.obtain(file, read: { "read" }, make: { "made" }, waiting: { _ in }, unusable: { _ in })) {
            XCTAssertTrue("\($0)".contains("val-key.safetensors is a symbolic link"), "\($0)")
        }
        XCTAssertEqual(try String(contentsOfFile: folder + "/" + other, encoding: .utf8), "half")
    }
}
