import ArgumentParser
import CommandLineKit
import Foundation
import Support

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
        let outPath = out.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        var arguments = RecordedRun.withoutRunFolderFlags(recorded.arguments)
        if let outPath { arguments += ["--out", outPath] }
        if overwrite { arguments.append("--overwrite") }
        guard FileManager.default.changeCurrentDirectoryPath(recorded.workingDirectory) else {
            throw ValidationError("the run was started in \(shown(recorded.workingDirectory)), which is not a folder here")
        }
        arguments = try pinned(arguments, to: recorded.options)
        if dryRun {
            Console.out((["dinoprobe"] + arguments).map(shown).joined(separator: " "))
            return
        }
        Dinoprobe.replayedCommandLine = ["dinoprobe"] + arguments
        var command = try Dinoprobe.parseAsRoot(arguments)
        try command.run()
    }

    /// `arguments` with an explicit `--name value` added for each recorded option whose value a
    /// parse of `arguments` resolves differently.
    func pinned(_ arguments: [String], to options: [String: JSONValue]) throws -> [String] {
        var result = arguments
        let now = try Self.resolvedOptions(result)
        for (name, value) in options.sorted(by: { $0.key < $1.key }) where !Self.unpinned.contains(name) && !RecordedRun.same(now[name], value) {
            guard let pin = RecordedRun.flag(name, value) else {
                throw ValidationError("--\(name) was \(value.text()) in the recorded run and cannot be given on a command line; run the command yourself")
            }
            result += pin
        }
        let differing = try Self.resolvedOptions(result).filter { !Self.unpinned.contains($0.key) && !RecordedRun.same(options[$0.key], $0.value) }
        if let (name, value) = differing.sorted(by: { $0.key < $1.key }).first {
            throw ValidationError("this release cannot reproduce the recorded options of \(shown(record)): --\(name) is \(value.text()) here, "
                                  + "\(options[name]?.text() ?? "absent") there")
        }
        return result
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

/// A run's `run.json` read back: its command line, where it started, its resolved options.
struct RecordedRun {
    /// The command line without the program name.
    var arguments: [String]
    var workingDirectory: String
    var options: [String: JSONValue]

    init(path: String) throws {
        let value: JSONValue
        do { value = try StrictJSON.parse(Data(try FileSystem.readText(path, limit: 16 << 20).utf8)) } catch {
            throw ValidationError("\(shown(path)) is not a readable run record: \(error)")
        }
        guard case let .array(command)? = value["command"], command.count >= 2,
              case let strings = command.compactMap(\.string), strings.count == command.count,
              let folder = (value["working_directory"] ?? value["workingDirectory"])?.string, case let .object(options)? = value["options"] else {
            throw ValidationError("\(shown(path)) is not a dinoprobe run record (no command, working_directory or options)")
        }
        guard strings[1] != "rerun" else { throw ValidationError("\(shown(path)) records a rerun; rerun the record it names") }
        arguments = Array(strings.dropFirst())
        workingDirectory = folder
        self.options = Dictionary(options, uniquingKeysWith: { a, _ in a })
    }

    /// Equal values, numbers compared by value (a record may write 300 where a parse gives 300.0).
    static func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case let (.number(x)?, .number(y)?): return x == y || (Double(x) != nil && Double(x) == Double(y))
        case let (.array(x)?, .array(y)?): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        default: return a == b
        }
    }

    /// `arguments` without `--out` (and its value), `--overwrite` and `--resume`.
    static func withoutRunFolderFlags(_ arguments: [String]) -> [String] {
        var kept: [String] = []
        var skipNext = false
        for argument in arguments {
            if skipNext { skipNext = false; continue }
            if argument == "--out" { skipNext = true; continue }
            if argument.hasPrefix("--out=") || argument == "--overwrite" || argument == "--resume" { continue }
            kept.append(argument)
        }
        return kept
    }

    /// The command-line words that set option `name` to `value`; nil when no words can.
    static func flag(_ name: String, _ value: JSONValue) -> [String]? {
        switch value {
        case .bool(true): return ["--" + name]
        case let .number(text), let .string(text): return ["--" + name, text]
        case let .array(items) where !items.isEmpty:
            let words = items.compactMap { item -> String? in
                if case let .number(text) = item { return text }
                return item.string
            }
            return words.count == items.count ? ["--" + name, words.joined(separator: ",")] : nil
        default: return nil
        }
    }
}
