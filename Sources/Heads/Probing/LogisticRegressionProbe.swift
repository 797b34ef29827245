import Evaluation
import Foundation
import Support

/// What the logistic-regression protocol produced: the C path, the final model (and its Float
/// head, with the recipe, backbone, classes and C in its metadata) and its metrics on val.
public struct LogisticRegressionOutcome: Sendable {
    public var path: LogisticRegressionPath
    /// The fit on all of train at the chosen C (nil when C was chosen on val: the path's own
    /// model was fitted on all of train already).
    public var refit: LogisticRegressionPathPoint?
    /// The final model in Double, and as the Float head that is saved.
    public var model: LogisticRegression
    public var head: LinearClassifier
    /// The head's metrics on val.
    public var valMetrics: ClassificationMetrics
    public var settings: LogisticRegressionSettings
    public var recipe: FeatureRecipe
    /// Rows of train, of the selection split, and of val.
    public var trainSamples: Int
    public var selectionSamples: Int
    public var valSamples: Int

    /// The path table, then the refit.
    public var table: String {
        guard let r = refit else { return path.table }
        return path.table + String(format: "\n  refit on all %d train samples at C = %.3g: objective %.4g, %d iterations (%@), %.1f s",
                                   trainSamples, r.C, r.objective, r.iterations, r.stop.rawValue, r.seconds)
    }

    /// What train-logreg prints: the table, then the final model's val metrics.
    public var summary: String {
        table + String(format: "\n\nval metrics of the model at C = %.4g:\n", path.bestC) + valMetrics.table()
    }
}

/// Meta's logistic-regression protocol (`dinov3/eval/log_regression.py`) on cached features:
/// scikit-learn's L-BFGS logistic regression at each C of 10^linspace(-6, 5, 45), C chosen by
/// top-1 on a stratified hold-out of train (or on val), then refitted on all of train.
public enum LogisticRegressionProbe {
    /// Meta's grid, C = 10^linspace(-6, 5, 45) as torch computes it in float32 (exponents
    /// -6, -5.75, ..., 5, exact in float32; each power rounded to float32).
    public static let metaCValues: [Double] = (0..<45).map { Double(Float(pow(10, -6 + 0.25 * Double($0)))) }

    /// The whole protocol on two feature splits (features of `tokens` over the last `blocks`
    /// blocks): the C path fitted on train less the hold-out (on all of train with `.val`) and
    /// scored on the selection split, the best C refitted on all of train, scored on val.
    public static func run(train: FeatureSplit, val: FeatureSplit, tokens: FeatureTokens = .clsAvgpool, blocks: Int = 1,
                           selection: ProbeSelection = .holdout(fraction: 0.1), settings: LogisticRegressionSettings = LogisticRegressionSettings(),
                           reporter: Reporter = SilentReporter()) throws -> LogisticRegressionOutcome {
        try settings.check()
        let inputs = try ProbeInputs(train: train, val: val, tokens: tokens, blocks: blocks, selection: selection, seed: settings.seed)
        let classes = train.classNames.count
        let refitting = { if case .holdout = selection { return true } else { return false } }()
        let task = reporter.task("C path", total: settings.cValues.count + (refitting ? 1 : 0), unit: "fits")
        var (path, model) = try self.path(inputs.fitting, selection: inputs.choosing, classes: classes, settings: settings) { done, point in
            task.update(done, note: String(format: "C %.3g: top-1 %.2f%%, %d iterations", point.C, 100 * point.selectionAccuracy, point.iterations))
        }
        path.selectedOn = selection.name
        var refit: LogisticRegressionPathPoint?
        if refitting {
            let start = Date()
            let all = try LogisticProblem(inputs.train, classes: classes, threads: settings.threads)
            let fit = try all.fit(C: path.bestC, warmStart: settings.warmStart ? model : nil, solver: settings.solver)
            model = fit.model
            refit = LogisticRegressionPathPoint(C: path.bestC, selectionAccuracy: path.points[path.bestIndex].selectionAccuracy,
                                                selectionLoss: path.points[path.bestIndex].selectionLoss, objective: fit.objective,
                                                iterations: fit.iterations, evaluations: fit.evaluations, stop: fit.stop,
                                                seconds: Date().timeIntervalSince(start))
        }
        task.finish(settings.cValues.count + (refitting ? 1 : 0))
        var metadata = inputs.metadata
        metadata.extra["protocol"] = "logreg"
        metadata.extra["C"] = "\(path.bestC)"
        let head = try model.head(metadata: metadata)
        let metrics = try ClassificationMetrics(scores: head.logits(features: inputs.val.values, count: inputs.val.count),
                                                labels: inputs.val.labels, classNames: train.classNames)
        return LogisticRegressionOutcome(path: path, refit: refit, model: model, head: head, valMetrics: metrics, settings: settings,
                                         recipe: inputs.recipe, trainSamples: inputs.train.count, selectionSamples: inputs.choosing.count,
                                         valSamples: inputs.val.count)
    }

    /// Fits every C of `settings` in ascending order on `train` (each from the previous one's
    /// solution with `warmStart`), scores each on `selection`, and returns the path with the
    /// model of the chosen C. `progress` receives (fits done, the latest point).
    public static func path(_ train: LabelledFeatures, selection: LabelledFeatures, classes: Int,
                            settings: LogisticRegressionSettings,
                            progress: (Int, LogisticRegressionPathPoint) -> Void = { _, _ in }) throws
        -> (path: LogisticRegressionPath, model: LogisticRegression) {
        try settings.check()
        try require(selection.count > 0, "selection features", "none; the path needs rows to choose C on")
        try require(selection.width == train.width, "selection features", "width \(selection.width), train has \(train.width)")
        let start = Date()
        let problem = try LogisticProblem(train, classes: classes, threads: settings.threads)
        var points: [LogisticRegressionPathPoint] = []
        var previous: LogisticRegression?
        var best: (index: Int, model: LogisticRegression)?
        for C in settings.cValues.sorted() {
            let t = Date()
            let fit = try problem.fit(C: C, warmStart: settings.warmStart ? previous : nil, solver: settings.solver)
            let (accuracy, loss) = try fit.model.score(selection)
            let point = LogisticRegressionPathPoint(C: C, selectionAccuracy: accuracy, selectionLoss: loss, objective: fit.objective,
                                                    iterations: fit.iterations, evaluations: fit.evaluations, stop: fit.stop,
                                                    seconds: Date().timeIntervalSince(t))
            // Strictly better only: ties keep the smaller C.
            if accuracy > (best.map { points[$0.index].selectionAccuracy } ?? -1) { best = (points.count, fit.model) }
            points.append(point)
            previous = fit.model
            progress(points.count, point)
        }
        guard let best else { throw HeadError.invalidArgument(what: "C values", detail: "none given") }
        let path = LogisticRegressionPath(points: points, bestIndex: best.index, selectedOn: "holdout",
                                          seconds: Date().timeIntervalSince(start))
        return (path, best.model)
    }
}
