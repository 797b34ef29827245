import Foundation

/// Meta's `WarmupOneCycleLR` (dinov3/eval/depth/schedulers.py, cosine annealing, no warm-up
/// ratio) as factors of the peak learning rate and the momentum it gives AdamW's beta1. For
/// the optimizer step `t` (0-based) of `totalSteps` T with `warmupSteps` w:
/// - `t < w`: factor `1/finalDivFactor + (1 + cos(pi t / T)) / 2 * t / w`, momentum 0 (Meta's
///   code leaves beta1 at 0 during the warm-up);
/// - after: factor `annealCos(1, 1/(divFactor finalDivFactor), (t + 1) / T)`, momentum
///   `annealCos(baseMomentum, maxMomentum, (t - w) / (T - w))`,
/// with `annealCos(a, b, p) = b + (a - b) / 2 (cos(pi p) + 1)`. Computed in Double.
public struct WarmupOneCycleLR: TrainingSchedule, Codable, Equatable {
    public var totalSteps: Int
    public var warmupSteps: Int
    public var divFactor: Double = 25
    public var finalDivFactor: Double = 1000
    public var baseMomentum: Double = 0.85
    public var maxMomentum: Double = 0.95

    /// Meta's config-nyu.yaml: 38,400 steps, 12,800 of warm-up.
    public init(totalSteps: Int = 38_400, warmupSteps: Int = 12_800) {
        (self.totalSteps, self.warmupSteps) = (totalSteps, warmupSteps)
    }

    static func annealCos(_ start: Double, _ end: Double, _ progress: Double) -> Double {
        end + (start - end) / 2 * (cos(Double.pi * progress) + 1)
    }

    public func factor(at step: Int) -> Float {
        let (t, total) = (Double(step), Double(max(totalSteps, 1)))
        guard step >= warmupSteps else {
            return Float(1 / finalDivFactor + (1 + cos(Double.pi * t / total)) / 2 * t / Double(warmupSteps))
        }
        return Float(Self.annealCos(1, 1 / (divFactor * finalDivFactor), (t + 1) / total))
    }

    public func momentum(at step: Int) -> Float? {
        guard step >= warmupSteps else { return 0 }
        let span = Double(max(totalSteps - warmupSteps, 1))
        return Float(Self.annealCos(baseMomentum, maxMomentum, Double(step - warmupSteps) / span))
    }
}
