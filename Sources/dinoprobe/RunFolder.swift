import ArgumentParser
import Foundation
import Heads
import Support
import Training

/// An output folder held by this run: checked before any compute (a file in the way, an earlier
/// run's results without --overwrite, an unfinished run without --resume, no write permission),
/// created and locked so that a second run into the same folder refuses to start, with a
/// `run.json` record kept up to date; removed again if the run ends without writing results.
/// Results are written into `staging()` and appear together with `publish(outputs:)`
/// (`RunPublication`); what an interrupted publishing left is settled when the folder is opened.
final class RunFolder {
    let url: URL
    var path: String { url.path }
    private let lock: FolderLock
    private(set) var record: RunRecord
    private var finished = false
    private var publication: RunPublication?

    /// Where training state is saved as the run goes.
    var checkpointPath: String { path + "/" + Self.checkpointName }
    static let checkpointName = "checkpoint.safetensors"

    /// `path` nil: `runs/PREFIX-DATE`. `guarding`: a result file whose presence means an earlier
    /// run finished here (replaced only with `overwrite`). `resume`: continue the unfinished run
    /// whose checkpoint is in the folder. `command` and `resolved` fill run.json's options.
    init(_ path: String?, prefix: String, overwrite: Bool, guarding file: String?, resume: Bool = false,
         command: ParsableArguments, resolved: [String: Any] = [:]) throws {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let folder = path ?? "runs/\(prefix)-\(formatter.string(from: Date()))"
        if let status = try FileSystem.status(folder), status.kind != .directory {
            throw ValidationError("--out \(shown(folder)) is \(status.kind.rawValue), not a folder")
        }
        try AtomicFile.checkFolderWritable(folder)
        let lock = try FolderLock(folder: folder)
        do {
            try Self.settleInterruptedPublishing(folder, resume: resume)
            try Self.check(folder, guarding: file, resume: resume, overwrite: overwrite)
        } catch {
            lock.releaseRemovingIfEmpty()
            throw error
        }
        self.lock = lock
        url = URL(fileURLWithPath: folder)
        record = RunRecord(version: Dinoprobe.configuration.version, commit: BuildInfo.commit, command: Dinoprobe.commandLine,
                           options: OptionRecord.values(of: command, resolved: resolved))
        if resume, let earlier = RunRecord.earlier(inFolder: folder) {
            record.runID = earlier.runID
            record.resumedFrom = earlier.starts
        }
        if overwrite && !resume { try? FileSystem.removeFile(folder + "/" + Self.checkpointName) }
        try record.write(toFolder: folder)
    }

    /// Refuses to start over an earlier run's results (without `overwrite`) or an unfinished run
    /// (without `resume`), and to resume a finished run or one without a checkpoint.
    private static func check(_ folder: String, guarding file: String?, resume: Bool, overwrite: Bool) throws {
        let checkpoint = folder + "/" + checkpointName
        if resume {
            if let file, FileSystem.exists(folder + "/" + file) {
                throw ValidationError("\(shown(folder)) holds a finished run (\(file)); there is nothing to resume")
            }
            guard FileSystem.exists(checkpoint) else {
                throw ValidationError("\(shown(folder)) has no \(checkpointName) to resume from; run without --resume to start")
            }
        } else if let file, !overwrite {
            if FileSystem.exists(folder + "/" + file) {
                throw ValidationError("\(shown(folder)) already holds a \(file) from an earlier run; choose another --out, or pass --overwrite")
            }
            if FileSystem.exists(checkpoint) {
                throw ValidationError("\(shown(folder)) holds an unfinished run (\(checkpointName)); pass --resume to continue it, or --overwrite to start again")
            }
        }
    }

    /// Finishes publishing the results an interrupted run had sealed, or discards unsealed ones.
    /// With `resume`, finished publishing is all that was left to do: the command ends there.
    private static func settleInterruptedPublishing(_ folder: String, resume: Bool) throws {
        switch try RunPublication.recover(runFolder: folder) {
        case .nothing:
            break
        case .discarded:
            Console.err("\(shown(folder)): removed the results an interrupted run had not finished writing (nothing of them was published)")
        case let .completed(names):
            Console.err("\(shown(folder)): finished publishing the results of an interrupted run: \(names.joined(separator: ", "))")
            if resume { throw ExitCode.success }
        }
    }

    /// Changes the record and writes it out.
    func update(_ change: (inout RunRecord) -> Void) throws {
        change(&record)
        try record.write(toFolder: path)
    }

    /// The folder results are written into until `publish` (created on first use, empty).
    func staging() throws -> String {
        if let publication { return publication.path }
        let started = try RunPublication(runFolder: path)
        started.afterStep = Self.injectedFault()
        publication = started
        return started.path
    }

    /// Publishes the staged `outputs` (paths inside `staging()`; a file or folder at the top of
    /// the staging folder appears as a whole) together, with run.json marking the run finished
    /// written last; the checkpoint is removed once they are in place.
    func publish(outputs: [String]) throws {
        _ = try staging()
        guard let publication else { return }
        var entries: [String] = [], seen: Set<String> = []
        for output in outputs {
            let entry = output.split(separator: "/").first.map(String.init) ?? output
            if seen.insert(entry).inserted { entries.append(entry) }
        }
        var final = record
        final.status = "finished"
        final.finishedAt = Date()
        final.outputs = outputs + ["run.json"]
        try publication.publish(outputs: entries, record: final, retiring: [Self.checkpointName])
        record = final
        finished = true
    }

    /// Tests only: `DINOPROBE_TEST_PUBLISH_FAULT=N` interrupts the run (SIGINT) after the Nth
    /// publishing step, `N:error` fails it there as a full disk would.
    private static func injectedFault() -> ((String) throws -> Void)? {
        guard let spec = ProcessInfo.processInfo.environment["DINOPROBE_TEST_PUBLISH_FAULT"] else { return nil }
        let parts = spec.split(separator: ":")
        guard let target = parts.first.flatMap({ Int($0) }) else { return nil }
        var count = 0
        return { step in
            count += 1
            guard count == target else { return }
            if parts.count > 1 {
                throw FileSystemError.io(path: step, operation: "publish", reason: "No space left on device (injected by DINOPROBE_TEST_PUBLISH_FAULT)")
            }
            kill(getpid(), SIGINT)
            while true { pause() }
        }
    }

    /// Saves training state into this folder as the loop goes (and resumes from it with `resume`).
    func stateSaving(inputs: String, every interval: TimeInterval, resume: Bool) throws -> StateSaving {
        let path = checkpointPath
        var state: TrainingState?
        if resume {
            do { state = try TrainingState.read(from: path) } catch HeadError.badTrainingState(_, let reason) {
                throw HeadError.badTrainingState(path: path, reason: reason)
            }
            Console.err("resuming from step \(state?.info["step"] ?? "?") (\(path))")
        }
        return StateSaving(resumeFrom: state, interval: interval, inputs: inputs) { state, step in
            try state.write(to: path)
            Interrupts.keep("checkpoint", "\(path) (step \(step); continue with --resume)")
        }
    }

    /// Releases the folder. A run that did not finish is marked so in run.json, unless it wrote
    /// nothing else, in which case the folder is removed as if the run had never started.
    func close() {
        if !finished {
            publication?.discard()
            let others = ((try? FileSystem.list(path)) ?? []).filter { $0 != "run.json" && $0 != FolderLock.fileName }
            if others.isEmpty {
                try? FileSystem.removeFile(path + "/run.json")
            } else {
                try? update { $0.status = "stopped before finishing" }
            }
        }
        lock.releaseRemovingIfEmpty()
    }
}

/// Where a training command writes its run, whether it may replace an earlier head there, and
/// how it survives interruption.
struct TrainingRunOptions: ParsableArguments {
    @Option(help: "Run folder (default runs/<kind>-DATE, e.g. runs/linear-20261129-101500).")
    var out: String?

    @Flag(help: "Replace the head of an earlier run in --out.")
    var overwrite = false

    @Flag(help: "Continue the unfinished run in --out from its checkpoint (same command and options); the result equals an uninterrupted run's.")
    var resume = false

    @Option(help: "Seconds between training checkpoints in the run folder.")
    var checkpointEvery: Double = 300

    func validate() throws {
        try Check.finite(checkpointEvery, 0...86_400, "--checkpoint-every")
        if resume && out == nil { throw ValidationError("--resume needs --out: the folder of the run to continue") }
        if resume && overwrite { throw ValidationError("--resume continues a run and --overwrite starts it again: give one") }
    }

    /// Creates or reopens the run folder (locked; checked before any work).
    func open(prefix: String, command: ParsableArguments, resolved: [String: Any] = [:]) throws -> RunFolder {
        try RunFolder(out, prefix: prefix, overwrite: overwrite, guarding: "head.safetensors", resume: resume,
                      command: command, resolved: resolved)
    }
}
