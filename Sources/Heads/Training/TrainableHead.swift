import Support

/// A head the shared `TrainingLoop` trains: forward and backward on a batch, its parameters for
/// the optimizer, its state saved into and restored from a `TrainingState`.
public protocol TrainableHead: Resumable, Sendable {
    /// What one training step reads (features with their targets).
    associatedtype Batch
    /// The name the head's state is saved under in a training state ("head" unless given).
    static var stateName: String { get }
    /// The head's record: recipe, classes, backbone.
    var metadata: HeadMetadata { get }
    /// Training-mode forward and backward on `batch`: one loss per series (one for a head, one
    /// per learning rate for a grid) and the gradient of each parameter, in the order the
    /// optimizer steps them. Updates what a forward pass changes (batch-norm statistics); draws
    /// dropout from `random`.
    mutating func forwardBackward(_ batch: Batch, random: inout SeededRandom) throws -> HeadGradients
    /// Runs `update` on the parameter buffer `name` (one of the names `forwardBackward` gives).
    mutating func updateParameter(_ name: String, _ update: (inout [Float]) throws -> Void) throws
}

/// A head that is saved as a file with its metadata and loaded back.
public protocol SavedHead: Sendable {
    var metadata: HeadMetadata { get }
    /// Writes the head (weights and metadata) atomically to `path`.
    func save(to path: String) throws
    /// Reads a head written by `save(to:)`, checked.
    static func load(from path: String) throws -> Self
}

extension LinearClassifier: SavedHead {}
extension LinearSegmenter: SavedHead {}

/// Losses and parameter gradients of one training batch.
public struct HeadGradients: Sendable {
    /// One loss per series.
    public var losses: [Float]
    /// The gradient of each named parameter, in the order they are stepped.
    public var parameters: [(name: String, gradient: [Float])]

    public init(losses: [Float], parameters: [(name: String, gradient: [Float])]) {
        (self.losses, self.parameters) = (losses, parameters)
    }
}

extension TrainableHead {
    public static var stateName: String { "head" }

    /// One optimizer step on `batch`, each parameter at `learningRates` (one per series, or one
    /// for all), the gradients first clipped to a total norm of `clipNorm` when given; returns
    /// each series' loss.
    @discardableResult
    public mutating func trainStep<O: Optimizer>(_ batch: Batch, optimizer: inout O, learningRates: [Float], clipNorm: Float? = nil,
                                                 random: inout SeededRandom) throws -> [Float] {
        var g = try forwardBackward(batch, random: &random)
        if let clipNorm { g.clip(maxNorm: clipNorm) }
        for (name, gradient) in g.parameters {
            try updateParameter(name) { try optimizer.step(name, parameters: &$0, gradients: gradient, learningRates: learningRates) }
        }
        return g.losses
    }
}

extension HeadGradients {
    /// Scales every gradient so that their total 2-norm is at most `maxNorm`, as
    /// `torch.nn.utils.clip_grad_norm_`: the norm of the per-tensor norms, then each gradient
    /// times min(1, maxNorm / (norm + 1e-6)) (also when that is 1). Returns the norm before.
    @discardableResult
    public mutating func clip(maxNorm: Float) -> Float {
        let squares = parameters.map { p in p.gradient.reduce(0.0) { $0 + Double($1) * Double($1) } }
        let total = Float(squares.map { Float($0.squareRoot()) }.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        let coefficient = min(maxNorm / (total + 1e-6), 1)
        for i in parameters.indices { parameters[i].gradient = parameters[i].gradient.map { $0 * coefficient } }
        return total
    }
}

/// Refuses a parameter name a head does not have.
func unknownParameter(_ name: String, of head: String) -> Error {
    HeadError.invalidArgument(what: "parameter '\(name)'", detail: "\(head) has no such parameter")
}
