import ArgumentParser
import CommandLineKit
import Foundation
import Support
import Training

/// `dinoprobe rerun RUN/run.json`: the recorded command again, from the recorded working folder,
/// with every option pinned to its recorded value (a default changed by a later release included).
struct Rerun: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recorded run again from its run.json: the same command, every option at its recorded value.",
        discussion: examples("rerun runs/linear-20261207-101500/run.json",
                             "rerun runs/seg-20261207-101500/run.json --out runs/seg-again --dry-run", then: """
            Relative paths are resolved from the folder the run was started in (run.json's working_directory). The new run \
            goes to --out, or to the command's own default; the recorded --out, --overwrite and --resume are not replayed. \
            --threads follows this machine unless it was given on the recorded command line.
            """))

    @Argument(help: "The run.json of an earlier run.", completion: .file(extensions: ["json"]))
    var record: String

    @Option(help: "Run folder of the new run.", completion: .directory)
    var out: String?

    @Flag(help: "Replace an earlier run in --out.")
    var overwrite = false

    @Flag(help: "Print the command line that would run, and stop.")
    var dryRun = false

    /// Options never pinned: where the run goes, and what follows the machine.
    static let unpinned: Set<String> = ["out", "overwrite", "resume", "threads"]

    func run() throws {
        let recorded = try RecordedRun(path: record)
        var arguments = recorded.arguments(out: out, overwrite: overwrite)
        guard FileManager.default.changeCurrentDirectoryPath(recorded.workingDirectory) else {
            throw ValidationError("the run was started in \(shown(recorded.workingDirectory)), which is not a folder here")
        }
        arguments = try recorded.pinned(arguments, unpinned: Self.unpinned, resolve: Self.resolvedOptions)
        if dryRun {
            Console.out((["dinoprobe"] + arguments).map(shown).joined(separator: " "))
            return
        }
        Dinoprobe.replayedCommandLine = ["dinoprobe"] + arguments
        var command = try Dinoprobe.parseAsRoot(arguments)
        try command.run()
    }

    /// Every option's value as a run record would record it, for `arguments` parsed now.
    static func resolvedOptions(_ arguments: [String]) throws -> [String: JSONValue] {
        let command: ParsableCommand
        do { command = try Dinoprobe.parseAsRoot(arguments) } catch {
            throw ValidationError("the recorded command line no longer parses: \(Dinoprobe.message(for: error))")
        }
        guard case let .object(values) = OptionRecord.values(of: command) else { return [:] }
        return Dictionary(values, uniquingKeysWith: { a, _ in a })
    }
}
