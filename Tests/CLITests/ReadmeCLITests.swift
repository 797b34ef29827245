import Foundation
import TestSupport
import XCTest

/// The README's commands, run as written from a clean folder, so they cannot rot: every ```sh
/// block between `<!-- readme-test: begin -->` and `<!-- readme-test: end -->`, in order, in one
/// shell (`set -euo pipefail`), with the built `dinoprobe` first on the PATH. Lines that build or
/// install (`scripts/setup`, `swift build`, `scripts/install`) are left out: the test runs the
/// binary the suite built.
final class ReadmeCLITests: XCTestCase {
    func testTheReadmeCommandsRunFromACleanFolder() throws {
        let script = try Self.readmeScript()
        XCTAssertGreaterThan(script.split(separator: "\n").filter { $0.hasPrefix("dinoprobe ") }.count, 5, script)
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent(".bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("dinoprobe"), withDestinationURL: try CLI.executable)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -euo pipefail\n" + script]
        process.currentDirectoryURL = dir
        var environment = CLI.withFastBLAS(ProcessInfo.processInfo.environment)  // one libtorch load per command
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["DINOPROBE_MODEL"] = nil
        process.environment = environment
        let log = dir.appendingPathComponent(".log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        (process.standardOutput, process.standardError) = (handle, handle)
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, "the README's commands failed:\n\(output.suffix(4000))")
    }

    /// The commands of the README's tested blocks, build and install lines left out.
    static func readmeScript() throws -> String {
        let text = try String(contentsOfFile: CLI.repoRoot.appendingPathComponent("README.md").path, encoding: .utf8)
        var lines: [String] = [], inTested = false, inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("<!-- readme-test: begin") { inTested = true; continue }
            if line.hasPrefix("<!-- readme-test: end") { inTested = false; continue }
            guard inTested else { continue }
            if line.hasPrefix("```") { inBlock = line.hasPrefix("```sh"); continue }
            let builds = ["scripts/setup", "swift build", "scripts/install"].contains { line.contains($0) }
            if inBlock && !builds { lines.append(line) }
        }
        return lines.joined(separator: "\n")
    }
}
