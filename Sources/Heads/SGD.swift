/// Stochastic gradient descent with momentum, exactly as `torch.optim.SGD`:
/// `d = grad + weightDecay * param`; with momentum, `buf = d` on the first step and
/// `buf = momentum * buf + (1 - dampening) * d` after; `d = nesterov ? d + momentum * buf : buf`;
/// `param -= lr * d`.
public struct SGD: Optimizer {
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool
    private var buffers: [String: [Float]] = [:]

    public init(momentum: Float = 0.9, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        (self.momentum, self.dampening, self.weightDecay, self.nesterov) = (momentum, dampening, weightDecay, nesterov)
    }

    public mutating func reset() { buffers = [:] }

    public mutating func step(_ name: String, parameters: inout [Float], gradients: [Float], learningRates: [Float]) throws {
        let segment = try validateStep(name, parameters: parameters.count, gradients: gradients.count,
                                       learningRates: learningRates.count, stateCount: buffers[name]?.count)
        let first = buffers[name] == nil
        var buffer = buffers.removeValue(forKey: name) ?? (momentum != 0 ? [Float](repeating: 0, count: parameters.count) : [])
        let (momentum, dampening, weightDecay, nesterov) = (self.momentum, self.dampening, self.weightDecay, self.nesterov)
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                buffer.withUnsafeMutableBufferPointer { b in
                    for (s, lr) in learningRates.enumerated() {
                        let range = (s * segment)..<((s + 1) * segment)
                        // The common case (Meta's probe: momentum, no decay, no Nesterov, after the
                        // first step) as a branch-free loop the compiler vectorises.
                        if !first && momentum != 0 && weightDecay == 0 && !nesterov {
                            let keep = 1 - dampening
                            for i in range {
                                let v = momentum * b[i] + keep * g[i]
                                b[i] = v
                                p[i] -= lr * v
                            }
                            continue
                        }
                        for i in range {
                            var d = g[i]
                            if weightDecay != 0 { d += weightDecay * p[i] }
                            if momentum != 0 {
                                b[i] = first ? d : momentum * b[i] + (1 - dampening) * d
                                d = nesterov ? d + momentum * b[i] : b[i]
                            }
                            p[i] -= lr * d
                        }
                    }
                }
            }
        }
        buffers[name] = buffer
    }
}

extension SGD: Resumable {
    public static var stateName: String { "sgd" }

    public func save(into state: inout TrainingState, as prefix: String) {
        for (name, buffer) in buffers { state.floats["\(prefix)/\(name)"] = buffer }
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        buffers = [:]
        for (key, buffer) in state.floats where key.hasPrefix(prefix + "/") {
            buffers[String(key.dropFirst(prefix.count + 1))] = buffer
        }
    }
}
