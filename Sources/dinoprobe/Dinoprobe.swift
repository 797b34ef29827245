import ArgumentParser
import CommandLineKit
import Backbone
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
        parseAndRun(arguments)
    }
}
