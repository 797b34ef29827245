import ArgumentParser
import Backbone
import CommandLineKit
import Foundation

/// The CPU self-attention kernel alone (one image, ViT-S/16's 6 heads of 64 by default) against
/// the machine's sgemm rate measured just before each timed call, in the same process: the share
/// of the sgemm rate the kernel reaches, with its two products counted as GEMM work.
struct BenchAttention: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Time the attention kernel alone at given token counts, as a share of the sgemm rate measured beside it.",
        discussion: examples("bench attention --tokens 4101,16389", then: "1,029 / 4,101 / 16,389 tokens are ViT-S/16 at 512 / 1024 / 2048 px."))

    @Option(parsing: .upToNextOption, help: "Token counts, comma-separated or repeated.")
    var tokens: [CommaList<Int>] = [CommaList(argument: "1029,4101,16389")!]

    @Option(help: "Heads.")
    var heads = 6

    @Option(help: "Head dimension (even).")
    var headDim = 64

    @Option(help: "Timed calls per token count, each after an sgemm measurement; the medians are reported.")
    var repeats = 3

    @OptionGroup var bench: BenchOptions

    func validate() throws {
        for t in tokens.flattened() { try Check.range(t, 6...100_000, "--tokens") }
        try Check.range(heads, 1...64, "--heads")
        try Check.range(headDim, 2...256, "--head-dim")
        guard headDim % 2 == 0 else { throw ValidationError("--head-dim must be even") }
        try Check.range(repeats, 1...100, "--repeats")
    }

    func run() throws {
        bench.applyThreads()
        var figures: [String: Any] = [:]
        let median = { (v: [Double]) in v.sorted()[v.count / 2] }
        for t in tokens.flattened() {
            let work = try AttentionWorkload(tokens: t, heads: heads, headDim: headDim)
            try work.run()  // warm-up
            var rates: [Double] = [], sgemm: [Double] = []
            for _ in 0..<repeats {
                sgemm.append(SGEMMProbe.gflops())
                usleep(BenchBackbone.settleMicroseconds)
                let start = Date()
                try work.run()
                rates.append(work.flops / Date().timeIntervalSince(start) / 1e9)
            }
            let (rate, probe) = (median(rates), median(sgemm))
            say(String(format: "%d tokens x %d heads of %d: %.3f s, %.1f GFLOP/s, sgemm %.1f GFLOP/s, share %.1f%% (medians of %d)",
                       t, heads, headDim, work.flops / rate / 1e9, rate, probe, 100 * rate / probe, repeats))
            figures["\(t)"] = ["gflops": rate, "sgemm_gflops": probe, "share": rate / probe]
        }
        try bench.record(figures)
    }
}
