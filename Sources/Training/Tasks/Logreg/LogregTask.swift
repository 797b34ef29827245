import Heads

/// Logistic regression on CLS features (Meta's sklearn protocol: L-BFGS over 45 values of C).
public enum LogregTask {
    public static let description = TaskDescription(
        name: "train-logreg", kind: .solver,
        summary: "multinomial logistic regression by L-BFGS along a path of C, chosen on a hold-out; top-1, balanced accuracy, macro F1")
}

extension LogisticRegressionSettings: TaskSettings {
    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let c = 1e-30...1e30
        public static let maxIterations = 1...1_000_000
        public static let tolerance = 0.0...1
    }

    /// Every setting in its range.
    public func validate() throws {
        try SettingError.finite(cValues, Ranges.c, "cValues")
        try SettingError.range(solver.maxIterations, Ranges.maxIterations, "maxIterations")
        try SettingError.finite(solver.gradientTolerance, Ranges.tolerance, "gradientTolerance")
        try SettingError.range(threads, 1...256, "threads")
    }
}
