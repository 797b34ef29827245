import ArgumentParser
import Foundation
import Heads
import Support
import Training

/// An output folder held by this run: checked before any compute (a file in the way, an earlier
/// run's results without --overwrite, an unfinished run without --resume, no write permission),
/// created and locked so that a second run into the same folder refuses to start, with a
/// `run.json` record kept up to date; removed again if the run ends without writing results.
final class RunFolder {
    let url: URL
    var path: String { url.path }
    private let lock: FolderLock
    private(set) var record: RunRecord
    private var finished = false

    /// Where training state is saved as the run goes.
    var checkpointPath: String { path + "/checkpoint.safetensors" }

    /// `path` nil: `runs/PREFIX-DATE`. `guarding`: a result file whose presence means an earlier
    /// run finished here (replaced only with `overwrite`). `resume`: continue the unfinished run
    /// whose checkpoint is in the folder. `command` and `resolved` fill run.json's options.
    init(_ path: String?, prefix: String, overwrite: Bool, guarding file: String?, resume: Bool = false,
         command: ParsableArguments, resolved: [String: Any] = [:]) throws {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let folder = path ?? "runs/\(prefix)-\(formatter.string(from: Date()))"
        if let status = try FileSystem.status(folder), status.kind != .directory {
            throw ValidationError("--out \(folder) is \(status.kind.rawValue), not a folder")
        }
        let checkpoint = folder + "/checkpoint.safetensors"
        if resume {
            if let file, FileSystem.exists(folder + "/" + file) {
                throw ValidationError("\(folder) holds a finished run (\(file)); there is nothing to resume")
            }
            guard FileSystem.exists(checkpoint) else {
                throw ValidationError("\(folder) has no checkpoint.safetensors to resume from; run without --resume to start")
            }
        } else if let file, !overwrite {
            if FileSystem.exists(folder + "/" + file) {
                throw ValidationError("\(folder) already holds a \(file) from an earlier run; choose another --out, or pass --overwrite")
            }
            if FileSystem.exists(checkpoint) {
                throw ValidationError("\(folder) holds an unfinished run (checkpoint.safetensors); pass --resume to continue it, or --overwrite to start again")
            }
        }
        try AtomicFile.checkFolderWritable(folder)
        lock = try FolderLock(folder: folder)
        url = URL(fileURLWithPath: folder)
        record = RunRecord(version: Dinoprobe.configuration.version, commit: BuildInfo.commit, command: Dinoprobe.commandLine,
                           options: OptionRecord.values(of: command, resolved: resolved))
        if resume, let earlier = RunRecord.earlier(inFolder: folder) {
            record.runID = earlier.runID
            record.resumedFrom = earlier.starts
        }
        if overwrite && !resume { try? FileSystem.removeFile(checkpoint) }
        try record.write(toFolder: folder)
    }

    /// Changes the record and writes it out.
    func update(_ change: (inout RunRecord) -> Void) throws {
        change(&record)
        try record.write(toFolder: path)
    }

    /// Marks the run finished, listing the files it wrote; the checkpoint is no longer needed.
    func finish(outputs: [String]) throws {
        try? FileSystem.removeFile(checkpointPath)
        try update {
            $0.status = "finished"
            $0.finishedAt = Date()
            $0.outputs = outputs
        }
        finished = true
    }

    /// Saves training state into this folder as the loop goes (and resumes from it with `resume`).
    func checkpointing(inputs: String, every interval: TimeInterval, resume: Bool) throws -> Checkpointing {
        let path = checkpointPath
        var state: TrainingState?
        if resume {
            do { state = try TrainingState.read(from: path) } catch HeadError.badCheckpoint(_, let reason) {
                throw HeadError.badCheckpoint(path: path, reason: reason)
            }
            Console.err("resuming from step \(state?.info["step"] ?? "?") (\(path))")
        }
        return Checkpointing(resumeFrom: state, interval: interval, inputs: inputs) { state, step in
            try state.write(to: path)
            Interrupts.keep("checkpoint", "\(path) (step \(step); continue with --resume)")
        }
    }

    /// Releases the folder. A run that did not finish is marked so in run.json, unless it wrote
    /// nothing else, in which case the folder is removed as if the run had never started.
    func close() {
        if !finished {
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
