/// A first-order optimizer over flat `[Float]` parameter buffers.
///
/// Optimizers and schedules live in `Heads`, not in `Training`, so that a researcher who only
/// does `import Heads` (no libtorch, no datasets) can train a custom head in a few lines.
///
/// State (momentum buffers, moments, step counts) is kept per parameter `name`, as PyTorch keeps
/// it per tensor: call `step` once per buffer (e.g. "weight" then "bias") on every iteration.
/// `learningRates` splits the buffer into `learningRates.count` equal consecutive segments,
/// segment `i` using `learningRates[i]`: a `LinearClassifierGrid` updates all its heads, each
/// with its own rate, in one call (like one PyTorch parameter group per head).
public protocol Optimizer: Sendable {
    /// Updates `parameters` in place from `gradients` (same count). Throws when the counts
    /// disagree, when `learningRates` does not divide the buffer evenly, or when `name` was
    /// stepped before with another size.
    mutating func step(_ name: String, parameters: inout [Float], gradients: [Float], learningRates: [Float]) throws

    /// The momentum a `TrainingSchedule` may cycle (AdamW's beta1, SGD's momentum).
    var momentum: Float { get set }

    /// Forgets all state, as a freshly made optimizer.
    mutating func reset()

    /// The name its state is saved under in a training state.
    static var stateName: String { get }
}

extension Optimizer {
    public static var stateName: String { "optimizer" }

    /// `step` with one learning rate for the whole buffer.
    public mutating func step(_ name: String, parameters: inout [Float], gradients: [Float], learningRate: Float) throws {
        try step(name, parameters: &parameters, gradients: gradients, learningRates: [learningRate])
    }
}

/// Checks the arguments common to every optimizer step; returns the segment length.
func validateStep(_ name: String, parameters: Int, gradients: Int, learningRates: Int, stateCount: Int?) throws -> Int {
    try require(parameters == gradients, "gradients for '\(name)'", "\(gradients) values for \(parameters) parameters")
    try require(learningRates > 0 && parameters % learningRates == 0, "learning rates for '\(name)'",
                "\(learningRates) rates do not split \(parameters) parameters into equal segments")
    if let stateCount {
        try require(stateCount == parameters, "parameters '\(name)'",
                    "the optimizer saw \(stateCount) values under this name before and now \(parameters): use another name or reset() the optimizer")
    }
    return parameters / learningRates
}
