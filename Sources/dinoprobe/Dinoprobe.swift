import ArgumentParser
import CommandLineKit
import Backbone
import Foundation
import Heads
import Support

@main
struct Dinoprobe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dinoprobe",
        abstract: "What are frozen DINOv3 features worth on your task? Extract them, probe them, use them.",
        discussion: examples("synth model --out models/random", "train-linear --model models/random --data shapes --out runs/linear"),
        version: "0.1.0",
        subcommands: [Info.self, Download.self, Convert.self, Extract.self, Merge.self, TrainLinear.self, TrainLogreg.self, EvalLinear.self, Classify.self,
                      KNN.self, FewShotCommand.self, TrainSeg.self, EvalSeg.self, Segment.self, TrainDepth.self, EvalDepth.self, DepthPredict.self, Correspondence.self, Retrieval.self, Propagate.self, Synth.self, BenchForwarder.self, Rerun.self]
    )

    /// The command line as given (for run records), decoded from the raw bytes so that file
    /// names that are not UTF-8 survive.
    static var commandLine: [String] { replayedCommandLine ?? processCommandLine }
    private static let processCommandLine = (0..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0].map { PathCodec.string(fromCString: $0) } }
    /// The recorded command line `rerun` runs, recorded as the new run's own.
    nonisolated(unsafe) static var replayedCommandLine: [String]?

    static func main() {
        Torch.keepFreedMemory()
        FastBLAS.ensure()
        Interrupts.install()
        let (arguments, notes) = DeprecatedSpellings.rewrite(Array(processCommandLine.dropFirst()))
        for note in notes { Console.err("note: " + note) }
        var command: ParsableCommand
        if let unknown = unknownCommand(arguments) {
            Console.err("error: \(unknown)")
            Console.flush()
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exitShowing(error)  // a mistake on the command line: the message and the usage; or help, version
        }
        do {
            try command.run()
            Console.flush()
        } catch let code as ExitCode {
            Console.flush()
            Foundation.exit(code.rawValue)
        } catch where error is CleanExit || exitCode(for: error) == .success {
            exitShowing(error)  // help or version: printed to stdout, status 0
        } catch {
            // A failure while running: the message alone, never a usage screen; one line unless
            // the error's own line breaks are known to be its own.
            let text = message(for: error)
            Console.err("error: " + ((error as? MultilineMessage)?.keepsLineBreaks == true ? text : shown(text)))
            Foundation.exit(EXIT_FAILURE)
        }
    }

    /// What is wrong when the command words of `arguments` name no command (ArgumentParser
    /// would complain about the first option instead): the nearest command names. Nil when
    /// the words name a command.
    static func unknownCommand(_ arguments: [String]) -> String? {
        var command: ParsableCommand.Type = Dinoprobe.self
        var words = ["dinoprobe"]
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !word.hasPrefix("-"), !(words.count == 1 && word == "help") else { return nil }
            guard let next = subcommands.first(where: { $0._commandName == word }) else {
                let names = subcommands.map { $0._commandName }
                let near = Suggestions.nearest(word, among: names)
                let guess = Suggestions.didYouMean(near.map { (words.dropFirst() + [$0]).joined(separator: " ") })
                return "\(words.joined(separator: " ")) has no command \(shown(word))\(guess)\n(commands: \(names.joined(separator: ", ")); see `\(words.joined(separator: " ")) --help`)"
            }
            (command, words) = (next, words + [word])
        }
        return nil
    }

    /// Prints what ArgumentParser has to say about `error` through `Console` (never by itself:
    /// its messages echo the arguments as they were typed) and exits with its status. Help and
    /// version go to standard output; a mistake goes to standard error, the echoed arguments in
    /// its message shown as values (`shown`), so that a glob-picked file name can neither drive
    /// the terminal nor start a line of its own.
    static func exitShowing(_ error: Error) -> Never {
        let code = exitCode(for: error)
        var text = fullMessage(for: error)
        if code == .success {
            if !text.isEmpty { Console.out(text) }
        } else {
            let problem = message(for: error)
            if !problem.isEmpty { text = text.replacingOccurrences(of: problem, with: shown(problem)) }
            if !text.isEmpty { Console.err(text) }
        }
        Console.flush()
        Foundation.exit(code.rawValue)
    }
}
