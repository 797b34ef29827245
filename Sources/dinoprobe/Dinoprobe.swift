import ArgumentParser
import Foundation
import Support

@main
struct Dinoprobe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dinoprobe",
        abstract: "What are frozen DINOv3 features worth on your task? Extract them, probe them, use them.",
        version: "0.1.0",
        subcommands: [Info.self, Download.self, Convert.self, Extract.self, Merge.self, TrainLinear.self, TrainLogreg.self, EvalLinear.self, Classify.self,
                      KNN.self, FewShotCommand.self, TrainSeg.self, EvalSeg.self, Segment.self, Synth.self, Bench.self]
    )

    /// The command line as given (for run records), decoded from the raw bytes so that file
    /// names that are not UTF-8 survive.
    static let commandLine = (0..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0].map { PathCodec.string(fromCString: $0) } }

    static func main() {
        FastBLAS.ensure()
        Interrupts.install()
        let arguments = Array(commandLine.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)  // a mistake on the command line: the message and the usage
        }
        do {
            try command.run()
            Console.flush()
        } catch let code as ExitCode {
            Console.flush()
            Foundation.exit(code.rawValue)
        } catch where error is CleanExit || exitCode(for: error) == .success {
            exit(withError: error)  // help or version: printed to stdout, status 0
        } catch {
            // A failure while running: the message alone, never a usage screen.
            Console.err("error: \(message(for: error))")
            Foundation.exit(EXIT_FAILURE)
        }
    }
}
