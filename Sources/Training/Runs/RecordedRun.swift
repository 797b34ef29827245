import Foundation
import Support

/// A run's `run.json` read back: its command line, where it started, its resolved options and
/// (from this release on) its task's settings.
public struct RecordedRun: Sendable {
    /// Where the record was read from.
    public var path: String
    /// The command line without the program name.
    public var arguments: [String]
    public var workingDirectory: String
    /// Every option's value, keyed by flag name (`batch-size`).
    public var options: [String: JSONValue]
    /// The task's settings, keyed by coding key; nil in older records and for commands without.
    public var settings: JSONValue?

    public init(path: String) throws {
        let value: JSONValue
        do { value = try StrictJSON.parse(Data(try FileSystem.readText(path, limit: 16 << 20).utf8)) } catch {
            throw TrainingError.badOption("\(shown(path)) is not a readable run record: \(error)")
        }
        guard case let .array(command)? = value["command"], command.count >= 2,
              case let strings = command.compactMap(\.string), strings.count == command.count,
              let folder = (value["working_directory"] ?? value["workingDirectory"])?.string, case let .object(options)? = value["options"] else {
            throw TrainingError.badOption("\(shown(path)) is not a dinoprobe run record (no command, working_directory or options)")
        }
        guard strings[1] != "rerun" else { throw TrainingError.badOption("\(shown(path)) records a rerun; rerun the record it names") }
        self.path = path
        arguments = Array(strings.dropFirst())
        workingDirectory = folder
        self.options = Dictionary(options, uniquingKeysWith: { a, _ in a })
        settings = value["settings"]
    }

    /// The recorded settings as `type`, nil when the record holds none.
    public func settings<Settings: TaskSettings>(as type: Settings.Type) throws -> Settings? {
        guard let settings else { return nil }
        return try JSONDecoder().decode(Settings.self, from: JSONEncoder().encode(settings))
    }

    /// `arguments` with `--name value` added for each recorded option that `resolve` (the
    /// options a parse of a command line gives, as a record records them) resolves differently;
    /// options in `unpinned` are left as they are. Throws when no command line reproduces them.
    public func pinned(_ arguments: [String], unpinned: Set<String>, resolve: ([String]) throws -> [String: JSONValue]) throws -> [String] {
        var result = arguments
        let now = try resolve(result)
        let options = Self.inverted(self.options, as: now)
        for (name, value) in options.sorted(by: { $0.key < $1.key }) where !unpinned.contains(name) && !Self.same(now[name], value) {
            // Only the command's own options: a record's name like "out=DIR" would pass as a flag.
            guard now[name] != nil else {
                throw TrainingError.badOption("\(shown(path)) records --\(name), which \(arguments.first ?? "the command") does not have here; run the command yourself")
            }
            guard let pin = Self.flag(name, value) else {
                throw TrainingError.badOption("--\(name) was \(value.text()) in the recorded run and cannot be given on a command line; run the command yourself")
            }
            result += pin
        }
        let differing = try resolve(result).filter { !unpinned.contains($0.key) && !Self.same(options[$0.key], $0.value) }
        if let (name, value) = differing.sorted(by: { $0.key < $1.key }).first {
            throw TrainingError.badOption("this release cannot reproduce the recorded options of \(shown(path)): --\(name) is \(value.text()) here, "
                                          + "\(options[name]?.text() ?? "absent") there")
        }
        return result
    }

    /// Equal values, numbers compared by value (a record may write 300 where a parse gives 300.0).
    static func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case let (.number(x)?, .number(y)?): return x == y || (Double(x) != nil && Double(x) == Double(y))
        case let (.array(x)?, .array(y)?): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        // A comma list recorded as typed (`cat,dog`) by earlier releases.
        case let (.array(x)?, .string(y)?), let (.string(y)?, .array(x)?): return x.map { $0.string ?? $0.text() }.joined(separator: ",") == y
        default: return a == b
        }
    }

    /// `options` with a flag recorded under its older negative name (`no-warm-start`: false)
    /// under the name `current` has for it (`warm-start`: true).
    static func inverted(_ options: [String: JSONValue], as current: [String: JSONValue]) -> [String: JSONValue] {
        var result = options
        for (name, value) in options where name.hasPrefix("no-") && current[name] == nil {
            guard case let .bool(set) = value, current[String(name.dropFirst(3))] != nil else { continue }
            (result[name], result[String(name.dropFirst(3))]) = (nil, .bool(!set))
        }
        return result
    }

    /// The recorded command line for a new run: the recorded run-folder flags left out, `out`
    /// (made absolute: the new run starts in the recorded working folder) and `overwrite` instead.
    public func arguments(out: String?, overwrite: Bool) -> [String] {
        Self.withoutRunFolderFlags(arguments) + (out.map { ["--out", URL(fileURLWithPath: $0).standardizedFileURL.path] } ?? [])
            + (overwrite ? ["--overwrite"] : [])
    }

    /// `arguments` without `--out` (and its value), `--overwrite` and `--resume`.
    public static func withoutRunFolderFlags(_ arguments: [String]) -> [String] {
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
