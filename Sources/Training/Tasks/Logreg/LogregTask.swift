import Heads

/// Logistic regression on CLS features (Meta's sklearn protocol: L-BFGS over 45 values of C).
public enum LogregTask {
    public static let description = TaskDescription(
        name: "train-logreg", kind: .solver,
        summary: "multinomial logistic regression by L-BFGS along a path of C, chosen on a hold-out; top-1, balanced accuracy, macro F1")
}

extension LogisticRegressionSettings {
    /// The values a run accepts (the CLI checks its options against them).
    public enum Ranges {
        public static let c = 1e-30...1e30
        public static let maxIterations = 1...1_000_000
        public static let tolerance = 0.0...1
    }
}
