import ArgumentParser
import CommandLineKit
import Foundation
import Support

/// `dinoprobe bench ...` runs `dinoprobe-bench ...`, the benchmarks' own executable, built and
/// installed beside this one.
struct BenchForwarder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (release builds), side by side with the Python references: runs dinoprobe-bench with these arguments.",
        discussion: examples("bench backbone --batch-sizes 1,8 --sizes 224", "bench depth-step", then: "dinoprobe bench --help lists the benchmarks."))

    @Argument(parsing: .captureForPassthrough, help: "The benchmark and its options (see dinoprobe-bench --help).")
    var arguments: [String] = []

    func run() throws {
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let bench = own.deletingLastPathComponent().appendingPathComponent("dinoprobe-bench").path
        guard FileManager.default.isExecutableFile(atPath: bench) else {
            throw ValidationError("the benchmarks are a separate executable, not found at \(shown(bench)): "
                                  + "swift build -c release --product dinoprobe-bench (scripts/install installs it)")
        }
        let argv = [bench] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        execv(bench, &cArguments)
        throw ValidationError("could not run \(shown(bench)): \(String(cString: strerror(errno)))")
    }
}
