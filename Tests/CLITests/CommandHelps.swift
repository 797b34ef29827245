import Foundation
import TestSupport
import XCTest

/// Every command's `--help` at docs/cli.md's width (100 columns), run once per test process and
/// shared by CLIReferenceTests and HelpCLITests (scripts/run-tests runs the two classes in one
/// process): one `dinoprobe --help` each instead of one per command per class.
enum CommandHelps {
    struct Help: Sendable {
        let path: [String]
        let status: Int32
        let stdout: String
        let stderr: String
    }

    private static let collected = Result { try commandPaths().map(run) }

    /// Every command's help, in the order `dinoprobe --help` lists them.
    static func all() throws -> [Help] { try collected.get() }

    /// The help of `command` (words, e.g. "synth model"): the shared one where the parser lists
    /// the command, else (the `bench` commands, which dinoprobe-bench answers) run now.
    static func help(_ command: String) throws -> Help {
        let path = command.split(separator: " ").map(String.init)
        return try all().first { $0.path == path } ?? run(path)
    }

    static func run(_ path: [String]) throws -> Help {
        let r = try CLI.run(path + ["--help"], environment: ["COLUMNS": "100"])
        return Help(path: path, status: r.status, stdout: r.stdout, stderr: r.stderr)
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
