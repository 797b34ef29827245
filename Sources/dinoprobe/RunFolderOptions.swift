import ArgumentParser
import CommandLineKit
import Foundation
import Heads
import Training

extension RunFolder {
    /// Opens (creates, locks, checks) the run folder of a parsed command: run.json starts with
    /// the command line and every option's value; the folder's refusals become usage errors.
    static func open(_ path: String?, prefix: String, overwrite: Bool, guarding files: [String], resume: Bool = false,
                     command: ParsableArguments, resolved: [String: Any] = [:]) throws -> RunFolder {
        let record = RunRecord(version: Dinoprobe.configuration.version, commit: BuildInfo.commit, command: Dinoprobe.commandLine,
                               options: OptionRecord.values(of: command, resolved: resolved))
        do {
            return try RunFolder(path, prefix: prefix, overwrite: overwrite, guarding: files, resume: resume, record: record,
                                 reporter: TerminalReporter.shared)
        } catch RunFolderError.publishingCompleted {
            throw ExitCode.success
        } catch let error as RunFolderError {
            throw ValidationError(error.description)
        }
    }

    /// Publishes the staged `outputs` and says every file the run left in the folder (beside
    /// them: skipped-image lists and run.json), on standard output or, with `toErr`, standard error.
    func publishAndSay(outputs: [String], toErr: Bool = false) throws {
        try publish(outputs: outputs)
        if toErr { Console.err(publishedLine) } else { say(publishedLine) }
    }

    /// Saves training state into this folder as the loop goes (and resumes from it with
    /// `resume`); an interruption names the state file to continue from.
    func stateSaving(inputs: String, every interval: TimeInterval, resume: Bool) throws -> StateSaving {
        try stateSaving(inputs: inputs, every: interval, resume: resume) { path, step in
            Interrupts.keep("checkpoint", "\(path) (step \(step); continue with --resume)")
        }
    }
}

/// Where a command writes its run folder, and whether it may replace an earlier run's results there.
struct OutputOptions: ParsableArguments {
    @Option(help: "Run folder: results, report and run.json (default: runs/<command>-DATE; eval-linear, eval-seg, eval-depth, classify and knn: print only).",
            completion: .directory)
    var out: String?

    @Flag(help: "Replace the results of an earlier run of this command in --out.")
    var overwrite = false

    /// Creates (or, with `resume`, reopens) the run folder, locked and checked before any work;
    /// `guarding` are the result files that --overwrite must allow to replace.
    func open(prefix: String, guarding files: [String], resume: Bool = false, command: ParsableArguments,
              resolved: [String: Any] = [:]) throws -> RunFolder {
        try RunFolder.open(out, prefix: prefix, overwrite: overwrite, guarding: files, resume: resume, command: command, resolved: resolved)
    }

    /// The run folder when --out is given (commands that otherwise print only).
    func openIfGiven(prefix: String, guarding files: [String], command: ParsableArguments) throws -> RunFolder? {
        try out.map { _ in try open(prefix: prefix, guarding: files, command: command) }
    }
}

/// Where a training command writes its run, whether it may replace an earlier head there, and
/// how it survives interruption.
struct TrainingRunOptions: ParsableArguments {
    @OptionGroup var output: OutputOptions

    @Flag(help: "Continue the unfinished run in --out from its checkpoint (same command and options); the result equals an uninterrupted run's.")
    var resume = false

    @Option(help: "Seconds between training checkpoints in the run folder.")
    var checkpointEvery: Double = 300

    func validate() throws {
        try Check.finite(checkpointEvery, 0...86_400, "--checkpoint-every")
        if resume && output.out == nil { throw ValidationError("--resume needs --out: the folder of the run to continue") }
        if resume && output.overwrite { throw ValidationError("--resume continues a run and --overwrite starts it again: give one") }
    }

    /// Creates or reopens the run folder (locked; checked before any work).
    func open(prefix: String, command: ParsableArguments, resolved: [String: Any] = [:]) throws -> RunFolder {
        try output.open(prefix: prefix, guarding: ["head.safetensors"], resume: resume, command: command, resolved: resolved)
    }
}
