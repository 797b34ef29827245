import Foundation
import Heads
import Support

/// An output folder held by this run: checked before any compute (a file in the way, an earlier
/// run's results without --overwrite, an unfinished run without --resume, no write permission),
/// created and locked so that a second run into the same folder refuses to start, with a
/// `run.json` record kept up to date; removed again if the run ends without writing results.
/// Results are written into `staging()` and appear together with `publish(outputs:)`
/// (`RunPublication`); what an interrupted publishing left is settled when the folder is opened.
public final class RunFolder {
    public let url: URL
    public var path: String { url.path }
    private let lock: FolderLock
    public private(set) var record: RunRecord
    private var finished = false
    private var publication: RunPublication?
    private let reporter: Reporter
    /// Files written straight into the folder as the run went (skipped-image lists), named in
    /// run.json's outputs with the published results (staged with them when `replacesFinished`).
    private var besideResults: [String] = []
    /// Over a finished run (--overwrite, or a run of the same command adding other files, as
    /// `segment` on other images): until publishing, this run's record and beside-files are kept
    /// in the staging folder, so a run that fails or is stopped leaves the earlier one whole.
    private let replacesFinished: Bool
    /// The result files the finished run before this one recorded that are still in the folder:
    /// run.json lists those this run does not replace beside its own, so it names every result there.
    private let earlierOutputs: [String]
    /// This run's own published files, run.json last (`published`).
    private var ownOutputs: [String] = []
    /// Called after each publishing step (tests interrupt or fail the run there; see `injectedFault`).
    public var afterPublishingStep: ((String) throws -> Void)? = RunFolder.injectedFault()

    /// Where training state is saved as the run goes.
    public var statePath: String { path + "/" + Self.stateName }
    /// The training state's file name (kept from the releases that called it a checkpoint).
    public static let stateName = "checkpoint.safetensors"

    /// `path` nil: `runs/PREFIX-DATE`. `guarding`: the result files this run writes, whose
    /// presence means an earlier run finished here (replaced only with `overwrite`; the first one
    /// found is named). A folder holding another command's run is refused, `overwrite` or not.
    /// `resume`: continue the unfinished run whose training state is in the folder. `record` is
    /// what run.json starts with (a resumed run keeps the earlier run's id). Throws
    /// `RunFolderError` when the rules refuse the folder.
    public init(_ path: String?, prefix: String, overwrite: Bool, guarding files: [String], resume: Bool = false,
                record: RunRecord, reporter: Reporter = SilentReporter()) throws {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let folder = path ?? "runs/\(prefix)-\(formatter.string(from: Date()))"
        if let status = try FileSystem.status(folder), status.kind != .directory {
            throw RunFolderError.notAFolder(folder, kind: status.kind.rawValue)
        }
        try AtomicFile.checkFolderWritable(folder)
        let lock = try FolderLock(folder: folder)
        do {
            try Self.settleInterruptedPublishing(folder, resume: resume, reporter: reporter)
            try Self.checkSameCommand(folder, as: record, guarding: files)
            try Self.check(folder, guarding: files, resume: resume, overwrite: overwrite)
        } catch {
            lock.releaseRemovingIfEmpty()
            throw error
        }
        (self.lock, self.reporter, self.record) = (lock, reporter, record)
        earlierOutputs = Self.recordedOutputs(in: folder)
        // Resumed over results: the stopped run was an --overwrite run, whose record went with its staging folder.
        replacesFinished = (overwrite || resume) && files.contains { FileSystem.exists(folder + "/" + $0) } || !earlierOutputs.isEmpty
        url = URL(fileURLWithPath: folder)
        if resume, !replacesFinished, let earlier = RunRecord.earlier(inFolder: folder) {
            self.record.runID = earlier.runID
            self.record.resumedFrom = earlier.starts
        }
        if overwrite && !resume { try? FileSystem.removeFile(folder + "/" + Self.stateName) }
        try self.record.write(toFolder: recordFolder())
    }

    /// The outputs (other than run.json) that `folder/run.json` records and the folder still holds;
    /// names that would leave the folder are ignored.
    private static func recordedOutputs(in folder: String) -> [String] {
        (RunRecord.earlierCommand(inFolder: folder)?.outputs ?? []).filter { name in
            name != "run.json" && !name.hasPrefix("/") && !ByteText.split(name, on: "/", omittingEmpty: true).contains("..")
                && FileSystem.exists(folder + "/" + name)
        }
    }

    /// Where run.json is kept while the run goes (the staging folder when it replaces a finished run).
    private func recordFolder() throws -> String { replacesFinished ? try staging() : path }

    /// Refuses to start over an earlier run's results (without `overwrite`) or an unfinished run
    /// (without `resume`), and to resume a finished run or one without a training state. A
    /// training state beside results is an --overwrite run's that was stopped (publishing retires
    /// the state, and an interrupted publishing is settled before this): it can be resumed.
    private static func check(_ folder: String, guarding files: [String], resume: Bool, overwrite: Bool) throws {
        let state = folder + "/" + stateName
        let existing = files.first { FileSystem.exists(folder + "/" + $0) }
        if resume {
            guard FileSystem.exists(state) else {
                if let existing { throw RunFolderError.finished(folder, result: existing) }
                throw RunFolderError.nothingToResume(folder)
            }
        } else if !overwrite {
            if let existing { throw RunFolderError.earlierResult(folder, result: existing) }
            if !files.isEmpty && FileSystem.exists(state) { throw RunFolderError.unfinished(folder) }
        }
    }

    /// Refuses a folder whose run.json records a run of another command: its results and this
    /// run's would mix (the file named is one both write, else run.json); or whose run.json is
    /// no run record at all (another tool's file, which this run's record would replace).
    private static func checkSameCommand(_ folder: String, as record: RunRecord, guarding files: [String]) throws {
        if try FileSystem.status(folder + "/run.json", followLinks: false)?.kind == .regular, RunRecord.earlier(inFolder: folder) == nil {
            throw RunFolderError.foreignRecord(folder)  // (a link there is refused as a link when written)
        }
        guard let mine = record.commandName, let earlier = RunRecord.earlierCommand(inFolder: folder), earlier.name != mine else { return }
        let shared = files.first { earlier.outputs.contains($0) } ?? "run.json"
        throw RunFolderError.otherCommand(folder, command: earlier.name, file: shared)
    }

    /// Finishes publishing the results an interrupted run had sealed, or discards unsealed ones.
    /// With `resume`, finished publishing is all that was left to do: the command ends there.
    private static func settleInterruptedPublishing(_ folder: String, resume: Bool, reporter: Reporter) throws {
        switch try RunPublication.recover(runFolder: folder) {
        case .nothing:
            break
        case .discarded:
            reporter.note("\(shown(folder)): removed the results an interrupted run had not finished writing (nothing of them was published)")
        case let .completed(names):
            reporter.note("\(shown(folder)): finished publishing the results of an interrupted run: \(names.joined(separator: ", "))")
            if resume { throw RunFolderError.publishingCompleted(folder) }
        }
    }

    /// Changes the record and writes it out.
    public func update(_ change: (inout RunRecord) -> Void) throws {
        change(&record)
        try record.write(toFolder: recordFolder())
    }

    /// The folder results are written into until `publish` (created on first use, empty).
    public func staging() throws -> String {
        if let publication { return publication.path }
        let started = try RunPublication(runFolder: path)
        started.afterStep = afterPublishingStep
        publication = started
        return started.path
    }

    /// Publishes the staged `outputs` (paths inside `staging()`; a file or folder at the top of
    /// the staging folder appears as a whole) together, with run.json marking the run finished
    /// written last; the training state is removed once they are in place.
    public func publish(outputs: [String]) throws {
        _ = try staging()
        guard let publication else { return }
        var entries: [String] = [], seen: Set<[UInt8]> = []  // bytes: "e\u{301}" and "\u{e9}" are two files
        for output in outputs + (replacesFinished ? besideResults : []) {
            // Its first component, cut on bytes: "masks/\u{301}a.png" is one `Character`-wise.
            let entry = ByteText.split(output, on: "/", omittingEmpty: true).first ?? output
            if seen.insert(PathCodec.bytes(of: entry)).inserted { entries.append(entry) }
        }
        var final = record
        final.status = "finished"
        final.finishedAt = Date()
        let own = outputs + besideResults.filter { !outputs.contains($0) }
        final.outputs = own + earlierOutputs.filter { !own.contains($0) } + ["run.json"]
        try publication.publish(outputs: entries, record: final, retiring: [Self.stateName])
        record = final
        ownOutputs = own + ["run.json"]
        finished = true
    }

    /// Writes `text` as the file `name` straight into the folder (whole or not at all), listed
    /// with the results when they are published (a list of skipped images, known before them).
    public func writeBeside(_ name: String, text: String) throws {
        try AtomicFile.write(Data(text.utf8), to: try recordFolder() + "/" + name)
        if !besideResults.contains(name) { besideResults.append(name) }
    }

    /// Writes `skipped-SPLIT.txt` (one `path<TAB>reason` line per skipped input) beside the
    /// results and records the count and the first few in run.json (reports show them).
    public func writeSkipped(_ lines: [String], split: String) throws {
        let name = "skipped-\(split).txt"
        try writeBeside(name, text: lines.joined(separator: "\n") + "\n")
        try update { $0.skipped[split] = RunRecord.SkippedList(count: lines.count, file: name, first: Array(lines.prefix(5))) }
    }

    /// What a command says of a split's skipped inputs: how many, the first 20, how many more.
    public static func skippedLines(_ skipped: [SkippedInput], split: String) -> [String] {
        guard !skipped.isEmpty else { return [] }
        return ["\(split): \(skipped.count) input(s) skipped:"] + skipped.prefix(20).map { "  \($0)" }
            + (skipped.count > 20 ? ["  ... and \(skipped.count - 20) more (see skipped-\(split).txt)"] : [])
    }

    /// Every file the finished run left in its folder, run.json last (empty before `publish`).
    public var published: [String] { finished ? ownOutputs : [] }

    /// "wrote PATH/: FILES" once published: at most ten files named, then how many more and run.json.
    public var publishedLine: String {
        let files = published.count > 12 ? published.prefix(10) + ["... \(published.count - 11) more", "run.json"] : published[...]
        return "wrote \(path)/: \(files.map { shown($0) }.joined(separator: ", "))"
    }

    /// Tests only: `DINOPROBE_TEST_PUBLISH_FAULT=N` interrupts the run (SIGINT) after the Nth
    /// publishing step, `N:error` fails it there as a full disk would.
    static func injectedFault() -> ((String) throws -> Void)? {
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
    /// `onSave` hears of each save (path and step).
    public func stateSaving(inputs: String, every interval: TimeInterval, resume: Bool,
                            onSave: @escaping (_ path: String, _ step: Int) -> Void = { _, _ in }) throws -> StateSaving {
        let path = statePath
        var state: TrainingState?
        if resume {
            do { state = try TrainingState.read(from: path) } catch HeadError.badTrainingState(_, let reason) {
                throw HeadError.badTrainingState(path: path, reason: reason)
            }
            reporter.note("resuming from step \(state?.info["step"] ?? "?") (\(path))")
        }
        return StateSaving(resumeFrom: state, interval: interval, inputs: inputs) { state, step in
            try state.write(to: path)
            onSave(path, step)
        }
    }

    /// Releases the folder. A run that did not finish is marked so in run.json, unless it wrote
    /// nothing else, in which case the folder is removed as if the run had never started.
    public func close() {
        if !finished {
            publication?.discard()
            let others = ((try? FileSystem.list(path)) ?? []).filter { $0 != "run.json" && $0 != FolderLock.fileName }
            if others.isEmpty {
                try? FileSystem.removeFile(path + "/run.json")
            } else if !replacesFinished {
                try? update { $0.status = "stopped before finishing" }
            }
        }
        lock.releaseRemovingIfEmpty()
    }
}
