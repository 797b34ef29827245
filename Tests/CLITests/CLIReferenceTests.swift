import Foundation
import TestSupport
import XCTest

/// docs/cli.md is every command's `--help`, generated, so the reference cannot drift from the
/// binary. `DINOPROBE_UPDATE_CLI_DOC=1 swift test --filter CLIReferenceTests` rewrites it.
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
        for path in try commandPaths() {
            let help = try CLI.run(path + ["--help"], environment: ["COLUMNS": "100"])
            XCTAssertEqual(help.status, 0, help.stderr)
            text += "## \((["dinoprobe"] + path).joined(separator: " "))\n\n```\n\(help.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\n```\n\n"
        }
        return text
    }

    /// Every command and subcommand, from the parser's own description of itself.
    static func commandPaths() throws -> [[String]] {
        let dump = try CLI.run(["--experimental-dump-help"])
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var paths: [[String]] = [[]]
        func walk(_ command: [String: Any], _ path: [String]) {
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = sub["commandName"] as? String, name != "help" else { continue }
                paths.append(path + [name])
                walk(sub, path + [name])
            }
        }
        walk(try XCTUnwrap(root["command"] as? [String: Any]), [])
        return paths
    }
}
