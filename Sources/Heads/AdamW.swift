import Foundation

/// Adam with decoupled weight decay, exactly as `torch.optim.AdamW` (amsgrad off):
/// `param *= 1 - lr * weightDecay`; `m = lerp(m, g, 1 - beta1)` (ATen's lerp, so beta1 = 0 gives g); `v = beta2 v + (1 - beta2) g²`;
/// `param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`, with `t` counted per
/// parameter name from 1.
public struct AdamW: Optimizer {
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    private struct State: Sendable {
        var step = 0
        var m: [Float]
        var v: [Float]
    }
    private var states: [String: State] = [:]

    /// PyTorch's defaults (weight decay 0.01); DINOv3's segmentation recipe uses 1e-3.
    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) {
        (self.beta1, self.beta2, self.eps, self.weightDecay) = (beta1, beta2, eps, weightDecay)
    }

    public mutating func reset() { states = [:] }

    /// beta1, which a one-cycle schedule cycles.
    public var momentum: Float {
        get { beta1 }
        set { beta1 = newValue }
    }

    public mutating func step(_ name: String, parameters: inout [Float], gradients: [Float], learningRates: [Float]) throws {
        let segment = try validateStep(name, parameters: parameters.count, gradients: gradients.count,
                                       learningRates: learningRates.count, stateCount: states[name]?.m.count)
        var state = states.removeValue(forKey: name)
            ?? State(m: [Float](repeating: 0, count: parameters.count), v: [Float](repeating: 0, count: parameters.count))
        state.step += 1
        let (beta1, beta2, eps, weightDecay) = (self.beta1, self.beta2, self.eps, self.weightDecay)
        let correction1 = 1 - Float(pow(Double(beta1), Double(state.step)))
        let correction2Root = Float((1 - pow(Double(beta2), Double(state.step))).squareRoot())
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                state.m.withUnsafeMutableBufferPointer { m in
                    state.v.withUnsafeMutableBufferPointer { v in
                        for (s, lr) in learningRates.enumerated() {
                            let decay = 1 - lr * weightDecay
                            let stepSize = lr / correction1
                            let weight = 1 - beta1
                            for i in (s * segment)..<((s + 1) * segment) {
                                p[i] *= decay
                                // ATen's lerp: exact at either end.
                                m[i] = weight < 0.5 ? m[i] + weight * (g[i] - m[i]) : g[i] - (g[i] - m[i]) * (1 - weight)
                                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                                p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + eps)
                            }
                        }
                    }
                }
            }
        }
        states[name] = state
    }
}

extension AdamW: Resumable {
    public static var stateName: String { "adamw" }

    public func save(into state: inout TrainingState, as prefix: String) {
        for (name, s) in states {
            state.floats["\(prefix)/m/\(name)"] = s.m
            state.floats["\(prefix)/v/\(name)"] = s.v
            state.integers["\(prefix)/step/\(name)"] = [Int64(s.step)]
        }
    }

    public mutating func restore(from state: TrainingState, as prefix: String) throws {
        states = [:]
        for (key, step) in state.integers where key.hasPrefix(prefix + "/step/") {
            let name = String(key.dropFirst(prefix.count + 6))
            guard step.count == 1, step[0] > 0, let m = state.floats["\(prefix)/m/\(name)"], let v = state.floats["\(prefix)/v/\(name)"],
                  m.count == v.count else {
                throw HeadError.badTrainingState(path: "", reason: "the AdamW state of '\(name)' is incomplete")
            }
            states[name] = State(step: Int(step[0]), m: m, v: v)
        }
    }
}
