import Foundation

/// What the training loop asks of a schedule at each optimizer step (0-based; `step` steps
/// were taken before it).
public protocol TrainingSchedule: Sendable {
    /// The factor on each base learning rate.
    func factor(at step: Int) -> Float
    /// The optimizer's momentum (AdamW's beta1, SGD's momentum) for the step, or nil to leave it.
    func momentum(at step: Int) -> Float?
}

/// Linear warm-up then cosine decay, as a factor that multiplies each base learning rate.
///
/// For the optimizer step `t` (0-based; `t` steps were taken before it):
/// - warm-up, `t < warmupSteps`: `start + (1 - start) * t / warmupSteps` (from `warmupStart`,
///   0 by default, rising linearly to 1 at `t = warmupSteps`);
/// - then `floor + (1 - floor) * 0.5 * (1 + cos(pi * (t - warmupSteps) / (totalSteps - warmupSteps)))`,
///   which is `torch.optim.lr_scheduler.CosineAnnealingLR(T_max: totalSteps, eta_min: floor * base)`
///   when there is no warm-up (Meta's linear-probe recipe), and DINO's `cosine_scheduler` after it;
/// - `floor` from `t >= totalSteps` on.
public struct LearningRateSchedule: TrainingSchedule, Equatable {
    public var totalSteps: Int
    public var warmupSteps: Int
    /// The factor at step 0 of the warm-up.
    public var warmupStart: Float
    /// The factor the cosine ends at (0: decay to zero).
    public var floor: Float

    public init(totalSteps: Int, warmupSteps: Int = 0, warmupStart: Float = 0, floor: Float = 0) {
        (self.totalSteps, self.warmupSteps, self.warmupStart, self.floor) = (totalSteps, warmupSteps, warmupStart, floor)
    }

    /// A factor of 1 at every step.
    public static let constant = LearningRateSchedule(totalSteps: .max, floor: 1)

    /// The factor for optimizer step `step` (0-based).
    public func factor(at step: Int) -> Float {
        if step < warmupSteps { return warmupStart + (1 - warmupStart) * Float(step) / Float(warmupSteps) }
        let span = totalSteps - warmupSteps
        guard span > 0, step < totalSteps else { return step < totalSteps ? 1 : floor }
        let progress = Double(step - warmupSteps) / Double(span)
        return floor + (1 - floor) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }

    /// Leaves the momentum alone.
    public func momentum(at step: Int) -> Float? { nil }

    /// `base * factor(at: step)`.
    public func learningRate(base: Float, step: Int) -> Float { base * factor(at: step) }
}
