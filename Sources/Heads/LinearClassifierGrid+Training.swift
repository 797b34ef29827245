import Support

extension LinearClassifierGrid: Resumable {
    public func save(into state: inout TrainingState, as prefix: String) {
        state.floats[prefix + ".weight"] = weight
        state.floats[prefix + ".bias"] = bias
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        weight = try state.floats(prefix + ".weight", count: weight.count)
        bias = try state.floats(prefix + ".bias", count: bias.count)
    }
}

extension LinearClassifierGrid: TrainableHead {
    public static var stateName: String { "grid" }

    /// Each head's cross-entropy on the rows and the gradients of `weight` and `bias`.
    public mutating func forwardBackward(_ batch: LabelledFeatures, random: inout SeededRandom) throws -> HeadGradients {
        let g = try lossesAndGradients(features: batch.values, labels: batch.labels)
        return HeadGradients(losses: g.losses, parameters: [("weight", g.weight), ("bias", g.bias)])
    }

    public mutating func updateParameter(_ name: String, _ update: (inout [Float]) throws -> Void) throws {
        switch name {
        case "weight": try update(&weight)
        case "bias": try update(&bias)
        default: throw unknownParameter(name, of: "a linear classifier grid")
        }
    }
}
