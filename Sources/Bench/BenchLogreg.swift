import ArgumentParser
import CommandLineKit
import Foundation
import Heads
import SafeTensors
import Support

/// The logistic-regression benchmark: Meta's whole protocol (45 values of C on train less a
/// stratified 10% hold-out, then the refit on all of train) on Imagenette-sized features.
struct BenchLogreg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logreg",
        abstract: "Time Meta's logistic-regression protocol: 45 values of C and the refit on 9,469 x 768 features, 10 classes.",
        discussion: examples("bench logreg", then: "scripts/bench --logreg runs it next to scikit-learn (scripts/bench_logreg.py) on the same rows and split."))

    @Option(help: "Write the features, labels and hold-out rows to this safetensors file (for scripts/bench_logreg.py).")
    var dataOut: String?

    @Option(help: "Spread of the class centres (std per dimension; the noise has std 1). 0.15: hold-out top-1 about 98% (Imagenette-like), the best C inside the grid; smaller: classes overlap more.")
    var centreSpread: Float = 0.15

    @Flag(help: "Fit every C from zero, as Meta and scikit-learn do.")
    var noWarmStart = false

    @OptionGroup var bench: BenchOptions

    func validate() throws { try Check.finite(centreSpread, 0...100, "--centre-spread") }

    func run() throws {
        bench.applyThreads()
        let (count, dim, classes, threads, warmStart) = (9469, 768, 10, bench.threads, !noWarmStart)
        let train = syntheticFeatures(count: count, dim: dim, classes: classes, centreSpread: centreSpread)
        let split = train.stratifiedSplit(fraction: 0.1, seed: 0)
        if let dataOut {
            // The same rows and split for scripts/bench_logreg.py.
            var writer = SafeTensorsWriter(metadata: ["written_by": "dinoprobe bench logreg"])
            try writer.add("features", floats: train.values, shape: [count, dim])
            try writer.add("labels", int64s: train.labels.map(Int64.init), shape: [count])
            try writer.add("holdout", int64s: split.holdout.map(Int64.init), shape: [split.holdout.count])
            try writer.write(to: dataOut)
        }
        var settings = LogisticRegressionSettings()
        settings.threads = threads
        settings.warmStart = warmStart
        let start = Date()
        let (path, model) = try LogisticRegressionProbe.path(train.rows(split.keep), selection: train.rows(split.holdout),
                                                             classes: classes, settings: settings)
        let pathSeconds = Date().timeIntervalSince(start)
        let refit = try LogisticRegression.fit(features: train.values, labels: train.labels, dim: dim, classes: classes, C: path.bestC,
                                               warmStart: warmStart ? model : nil, threads: threads)
        let seconds = Date().timeIntervalSince(start)
        say(path.table)
        say(String(format: "logistic regression, %d values of C on %d x %d features (%d held out), %d classes, %@: path %.1f s, refit at C = %.4g %.1f s (%d iterations), total %.1f s",
                   path.points.count, split.keep.count, dim, split.holdout.count, classes, warmStart ? "warm-started" : "each from zero",
                   pathSeconds, path.bestC, seconds - pathSeconds, refit.iterations, seconds))
        try bench.record(["logreg_seconds": seconds, "logreg_path_seconds": pathSeconds, "logreg_refit_seconds": seconds - pathSeconds,
                          "chosen_C": path.bestC, "best_index": path.bestIndex, "iterations": path.points.map(\.iterations),
                          "holdout_top1": path.points.map(\.selectionAccuracy), "refit_iterations": refit.iterations,
                          "threads": threads, "warm_start": warmStart])
    }
}
