import Backbone
import Datasets
import Evaluation
import Foundation
import Support

/// What a run folder's `run.json` records, so that a result can be traced to what made it: the
/// tool (version and git commit), the command line and every option's resolved value, when and
/// where it ran, the backbone and its weights fingerprint, the data (root and a fingerprint of
/// the file listing) and the seeds. Written when the run starts and again when it ends.
public struct RunRecord: Encodable, Sendable {
    public struct Tool: Encodable, Sendable {
        public var name = "dinoprobe"
        public var version: String
        public var commit: String
    }

    public struct Host: Encodable, Sendable {
        public var name: String
        public var cpu: String
        public var logicalCPUs: Int
        public var system: String

        /// This machine.
        public static var current: Host {
            // /proc files report size 0, so they are read as a stream, not by their size.
            let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("model name") }?
                .split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
            let os = ProcessInfo.processInfo.operatingSystemVersionString
            return Host(name: ProcessInfo.processInfo.hostName, cpu: cpu, logicalCPUs: ProcessInfo.processInfo.activeProcessorCount, system: os)
        }
    }

    public struct BackboneRecord: Encodable, Sendable {
        public var id: String
        public var folder: String
        public var variant: String
        public var fingerprint: String
        public var device: String
        public var precision: String
        public var threads: Int
    }

    public struct DataRecord: Encodable, Sendable {
        public var root: String
        /// Per split: how many files, and a fingerprint of their paths, sizes and modification times.
        public var splits: [String: Listing]

        public init(root: String, splits: [String: Listing]) {
            self.root = root
            self.splits = splits
        }

        /// The train and val splits of a classification data set.
        public static func classification(train: ClassificationDataset, val: ClassificationDataset) -> DataRecord {
            DataRecord(root: train.root, splits: ["train": .init(paths: train.samples.map(\.path)), "val": .init(paths: val.samples.map(\.path))])
        }
    }

    /// The inputs of one split that were skipped: how many, the file listing them all, the first few.
    public struct SkippedList: Encodable, Sendable {
        public var count: Int
        public var file: String
        public var first: [String]
    }

    public struct Listing: Encodable, Sendable {
        public var files: Int
        public var fingerprint: String

        /// The listing of `paths` (order matters: it is the data set's order).
        public init(paths: [String]) {
            var hasher = FNV1a()
            for path in paths { FileStamp.combine(path, into: &hasher) }
            files = paths.count
            fingerprint = hasher.hexDigest
        }
    }

    /// A new id per run; heads record it, pointing back to this file.
    public var runID = UUID().uuidString.lowercased()
    public var tool: Tool
    public var command: [String]
    public var workingDirectory = FileManager.default.currentDirectoryPath
    public var options: JSONValue
    /// The task's settings value (`TaskSettings`, keys as its coding keys); nil for commands without one.
    public var settings: JSONValue?
    public var startedAt = Date()
    public var finishedAt: Date?
    /// "running", "finished" or "failed: <why>"; a run killed outright stays "running".
    public var status = "running"
    /// Earlier starts of this run folder, when the run was resumed.
    public var resumedFrom: [String] = []
    public var host = Host.current
    public var backbone: BackboneRecord?
    public var data: DataRecord?
    public var seeds: [String: UInt64] = [:]
    /// The files the run wrote, relative to its folder.
    public var outputs: [String] = []
    /// Facts about the run worth keeping beside its options (e.g. what augmentation cost).
    public var notes: [String: String] = [:]
    /// Per split, the inputs skipped (unreadable or invalid images).
    public var skipped: [String: SkippedList] = [:]

    public init(version: String, commit: String, command: [String], options: JSONValue) {
        tool = Tool(version: version, commit: commit)
        self.command = command
        self.options = options
    }

    /// Records the backbone a run used.
    public mutating func record(model: DINOv3Model, id: String, threads: Int) {
        backbone = BackboneRecord(id: id, folder: model.folder.path, variant: model.variantName, fingerprint: model.fingerprint,
                                  device: model.device.rawValue, precision: model.precision.rawValue, threads: threads)
    }

    /// Records a task's settings (validated settings are finite: they always encode).
    public mutating func record<Settings: TaskSettings>(settings: Settings) {
        self.settings = try? JSONValueEncoder.encode(settings)
    }

    /// Writes the record to `folder/run.json` (whole or not at all).
    public func write(toFolder folder: String) throws {
        try AtomicFile.write(MetricsReport.jsonData(self), to: folder + "/run.json")
    }
}

extension RunRecord {
    /// The subcommand that made the run (the first argument after the program's name that is
    /// not an option), nil when the command line names none.
    public var commandName: String? { Self.commandName(command) }

    static func commandName(_ command: [String]) -> String? { command.dropFirst().first { !$0.hasPrefix("-") } }

    /// The command and the recorded outputs of the run in `folder/run.json`, nil when there is
    /// no readable record naming a command.
    public static func earlierCommand(inFolder folder: String) -> (name: String, outputs: [String])? {
        guard let value = earlierRecord(inFolder: folder), case let .array(words)? = value["command"],
              let name = commandName(words.compactMap(\.string)) else { return nil }
        guard case let .array(outputs)? = value["outputs"] else { return (name, []) }
        return (name, outputs.compactMap(\.string))
    }

    /// The id and start times of the run recorded in `folder/run.json` (when a run is resumed,
    /// it keeps its id; heads point to it). Nil when there is no readable record.
    public static func earlier(inFolder folder: String) -> (runID: String, starts: [String])? {
        // Records written before keys were snake_case (runID, startedAt, resumedFrom) still count.
        guard let value = earlierRecord(inFolder: folder), let id = (value["run_id"] ?? value["runID"])?.string,
              let started = (value["started_at"] ?? value["startedAt"])?.string else { return nil }
        var starts: [String] = []
        if case let .array(earlier)? = value["resumed_from"] ?? value["resumedFrom"] { starts = earlier.compactMap(\.string) }
        return (id, starts + [started])
    }

    /// `folder/run.json` parsed, nil when absent or unreadable.
    private static func earlierRecord(inFolder folder: String) -> JSONValue? {
        guard let text = try? FileSystem.readText(folder + "/run.json", limit: 16 << 20) else { return nil }
        return try? StrictJSON.parse(Data(text.utf8))
    }
}
