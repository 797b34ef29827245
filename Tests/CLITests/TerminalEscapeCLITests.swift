import Foundation
import TestSupport
import XCTest

/// Every byte dinoprobe writes to the terminal goes through one sanitiser, ArgumentParser's
/// errors and help included: a glob-picked file name holding escape sequences cannot drive the
/// terminal, and one holding a line break cannot forge a line of dinoprobe's own.
final class TerminalEscapeCLITests: XCTestCase {
    private static let titleSetter = "\u{1B}]0;PWNED\u{07}"
    private static let clearScreen = "\u{1B}[2J\u{1B}[31m"

    private func assertShownSafely(_ result: CLI.Result, file: StaticString = #filePath, line: UInt = #line) {
        let all = result.stdout + result.stderr
        XCTAssertFalse(all.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D || $0.value == 0x9B },
                       "raw control bytes reached the terminal: \(all.debugDescription)", file: file, line: line)
        XCTAssertFalse(all.split(separator: "\n").contains { $0.hasPrefix("error: forged") },
                       "a value started a line of its own: \(all)", file: file, line: line)
    }

    func testUnknownOptionsWithEscapesAreShownEscaped() throws {
        for argument in ["--\(Self.titleSetter).png", "--x\(Self.clearScreen)", "--a\rerror: forged", "--b\u{9B}31m"] {
            let result = try CLI.run(["train-linear", argument])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("Usage:"), result.stderr)
            assertShownSafely(result)
        }
        let root = try CLI.run(["--\(Self.titleSetter)"])
        XCTAssertNotEqual(root.status, 0)
        XCTAssertTrue(root.stderr.contains("\\u{1B}]0;PWNED\\u{7}"), root.stderr)
        assertShownSafely(root)
    }

    func testGlobPickedFileArgumentsAreShownEscaped() throws {
        // `info` takes no file: a name picked up by a glob is an unexpected argument, echoed.
        let unexpected = try CLI.run(["info", "\(Self.titleSetter).png"])
        XCTAssertNotEqual(unexpected.status, 0)
        assertShownSafely(unexpected)
        // A file that does not exist: the runtime error names it.
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = try CLI.run(["classify", "--head", dir.path + "/\(Self.titleSetter)h.safetensors", dir.path + "/x.png"])
        XCTAssertNotEqual(missing.status, 0)
        assertShownSafely(missing)
    }

    func testANewlineInAFileNameCannotForgeAnErrorLine() throws {
        let forged = "x\nerror: forged by a file name.png"
        let unexpected = try CLI.run(["info", forged])
        XCTAssertNotEqual(unexpected.status, 0)
        XCTAssertTrue(unexpected.stderr.contains("x\\nerror: forged"), unexpected.stderr)
        assertShownSafely(unexpected)

        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let head = try CLI.run(["classify", "--head", dir.path + "/" + forged, dir.path + "/x.png"])
        XCTAssertNotEqual(head.status, 0)
        XCTAssertTrue(head.stderr.hasPrefix("error: "), head.stderr)
        assertShownSafely(head)

        let model = try CLI.run(["info", "--model", dir.path + "/" + forged])
        XCTAssertNotEqual(model.status, 0)
        assertShownSafely(model)
    }

    /// Help and version still print, now through the sanitiser, with status 0.
    func testHelpAndVersionStillPrint() throws {
        let version = try CLI.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let help = try CLI.run(["train-linear", "--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("--resume"), help.stdout)
        assertShownSafely(help)
    }
}
