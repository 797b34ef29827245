import Foundation
import TestSupport
import XCTest

/// docs/cli.md is every command's `--help`, generated, so the reference cannot drift from the
/// binary (the helps come from `CommandHelps`, shared with HelpCLITests).
/// `DINOPROBE_UPDATE_CLI_DOC=1 swift test --filter CLIReferenceTests` rewrites it.
final class CLIReferenceTests: XCTestCase {
    func testDocsCliMdIsTheHelpOfEveryCommand() throws {
        let generated = try Self.reference()
        let path = CLI.repoRoot.appendingPathComponent("docs/cli.md").path
        if ProcessInfo.processInfo.environment["DINOPROBE_UPDATE_CLI_DOC"] == "1" {
            try generated.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(committed == generated,
                      "docs/cli.md differs from the commands' --help: run DINOPROBE_UPDATE_CLI_DOC=1 swift test --filter CLIReferenceTests")
    }

    /// The markdown: a section per command, in the order `dinoprobe --help` lists them.
    static func reference() throws -> String {
        var text = """
            # Command-line reference

            Every command's `--help`, generated from the binary by `Tests/CLITests/CLIReferenceTests.swift` (the test fails
            when this file and the binary disagree; `DINOPROBE_UPDATE_CLI_DOC=1 swift test --filter CLIReferenceTests`
            rewrites it). Examples with explanations: [usage.md](usage.md); what each task computes: [protocols.md](protocols.md).
            Shell completion: `dinoprobe --generate-completion-script bash|zsh|fish` (installed by `scripts/install`).


            """
        for help in try CommandHelps.all() {
            XCTAssertEqual(help.status, 0, help.stderr)
            text += "## \((["dinoprobe"] + help.path).joined(separator: " "))\n\n```\n\(help.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\n```\n\n"
        }
        return text
    }
}
