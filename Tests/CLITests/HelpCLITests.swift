import Foundation
import TestSupport
import XCTest

/// Help that fits: every command's help opens with usage examples of that command, path options
/// complete as files or folders, and scripts/install puts the executable and its completions in place.
final class HelpCLITests: XCTestCase {
    static let commands = ["info", "download", "convert", "extract", "merge", "train-linear", "train-logreg", "eval-linear", "classify",
                           "knn", "fewshot", "train-seg", "eval-seg", "segment", "synth", "synth classification", "synth segmentation",
                           "synth model", "bench", "bench backbone", "bench grid", "bench logreg", "bench seg-step", "retrieval", "propagate", "correspondence", "eval-depth", "rerun",
                           "synth depth", "synth retrieval", "synth video", "synth correspondence"]

    func testEveryHelpStartsWithExamplesOfItsCommand() throws {
        for command in Self.commands {
            let help = try CommandHelps.help(command)  // at 100 columns, as in docs/cli.md
            XCTAssertEqual(help.status, 0, command)
            let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let first = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  Examples:") || $0.hasPrefix("Examples:") }, "\(command): \(help.stdout)")
            XCTAssertLessThanOrEqual(first, 4, "\(command): examples come first, after the one-line overview")
            XCTAssertTrue(lines[first + 1].contains("dinoprobe \(command) ") || lines[first + 1].hasSuffix("dinoprobe \(command)"),
                          "\(command): \(lines[first + 1])")
        }
    }

    func testPathOptionsCompleteAsFilesOrFolders() throws {
        let bash = try CLI.run(["--generate-completion-script", "bash"])
        XCTAssertEqual(bash.status, 0, bash.stderr)
        let zsh = try CLI.run(["--generate-completion-script", "zsh"]).stdout
        for option in ["--data", "--out", "--head", "--cache-dir"] {
            XCTAssertTrue(zsh.contains("\(option)[") && zsh.contains("_files"), option)
        }
        XCTAssertTrue(zsh.contains("_files -/"), "folders complete as folders")
    }

    func testInstallPutsTheExecutableAndCompletionsUnderThePrefix() throws {
        let prefix = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: prefix) }
        let r = try CLI.shell("DINOPROBE_BIN=\"$DINOPROBE\" bash \"\(CLI.repoRoot.path)/scripts/install\" \"\(prefix.path)\"")
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for file in ["bin/dinoprobe", "share/bash-completion/completions/dinoprobe", "share/zsh/site-functions/_dinoprobe",
                     "share/fish/vendor_completions.d/dinoprobe.fish"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: prefix.path + "/" + file)
            XCTAssertGreaterThan(attributes[.size] as? Int ?? 0, 100, file)
        }
        let version = try CLI.shell("\"\(prefix.path)/bin/dinoprobe\" --version")
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0", version.stderr)
    }
}
