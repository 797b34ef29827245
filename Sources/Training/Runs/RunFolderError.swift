import Support

/// Why a run folder cannot be used as asked; each message says what to do instead.
public enum RunFolderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Something other than a folder is at the path.
    case notAFolder(String, kind: String)
    /// Resuming a run that already finished (its result file is there).
    case finished(String, result: String)
    /// Resuming a folder with no training state.
    case nothingToResume(String)
    /// Starting over an earlier run's result without overwriting.
    case earlierResult(String, result: String)
    /// Starting over an unfinished run without resuming or overwriting.
    case unfinished(String)
    /// Resuming found the interrupted run's results sealed and finished publishing them: nothing is left to do.
    case publishingCompleted(String)
    /// The folder holds another command's run (its name, and a file both runs write).
    case otherCommand(String, command: String, file: String)
    /// The folder holds a run.json that is no dinoprobe run record (another tool's file).
    case foreignRecord(String)

    public var description: String {
        switch self {
        case let .notAFolder(folder, kind): return "--out \(shown(folder)) is \(kind), not a folder"
        case let .finished(folder, file): return "\(shown(folder)) holds a finished run (\(file)); there is nothing to resume"
        case let .nothingToResume(folder):
            return "\(shown(folder)) has no \(RunFolder.stateName) to resume from; run without --resume to start"
        case let .earlierResult(folder, file):
            return "\(shown(folder)) already holds a \(file) from an earlier run; choose another --out, or pass --overwrite"
        case let .unfinished(folder):
            return "\(shown(folder)) holds an unfinished run (\(RunFolder.stateName)); pass --resume to continue it, or --overwrite to start again"
        case let .otherCommand(folder, command, file):
            return "\(shown(folder)) holds a run of `\(command)` (\(shown(folder))/run.json) and this command would replace its \(file); choose another --out (runs of different commands never share a folder)"
        case let .foreignRecord(folder):
            return "\(shown(folder))/run.json is not a dinoprobe run record and a run would replace it; choose another --out"
        case let .publishingCompleted(folder): return "\(shown(folder)): the interrupted run's results are now published; nothing is left to resume"
        }
    }
}
