import ArgumentParser
import CommandLineKit
import Foundation
import Support

extension ParsableCommand {
    /// Parses `arguments` and runs the command, every message through `Console`: a mistake on the
    /// command line gives its message and the usage (status 64), help and version go to standard
    /// output, a failure while running gives its message alone, on one line unless the error's own
    /// line breaks are known to be its own (status 1); an `ExitCode` thrown is the status.
    static func parseAndRun(_ arguments: [String]) -> Never {
        if let unknown = unknownCommand(arguments) {
            Console.err("error: \(unknown)")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        var command: ParsableCommand
        do { command = try parseAsRoot(arguments) } catch { exitShowing(error) }
        do {
            try command.run()
            Foundation.exit(EXIT_SUCCESS)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch where error is CleanExit || exitCode(for: error) == .success {
            exitShowing(error)
        } catch {
            let text = message(for: error)
            Console.err("error: " + ((error as? MultilineMessage)?.keepsLineBreaks == true ? text : shown(text)))
            Foundation.exit(EXIT_FAILURE)
        }
    }

    /// What is wrong when the command words of `arguments` name no command (ArgumentParser
    /// would complain about the first option instead): the nearest command names. Nil when
    /// the words name a command.
    static func unknownCommand(_ arguments: [String]) -> String? {
        var command: ParsableCommand.Type = Self.self
        var words = [_commandName]
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
        Foundation.exit(code.rawValue)
    }
}
