import ArgumentParser
import Foundation

@main
struct Dinoprobe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dinoprobe",
        abstract: "What are frozen DINOv3 features worth on your task? Extract them, probe them, use them.",
        version: "0.1.0",
        subcommands: [Info.self, Extract.self, TrainLinear.self, EvalLinear.self, Classify.self, KNN.self, TrainSeg.self, EvalSeg.self, Segment.self, Synth.self, Bench.self]
    )

    static func main() {
        FastBLAS.ensure()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
