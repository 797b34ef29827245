import Foundation

/// The Moré–Thuente line search (MINPACK-2 `dcsrch`/`dcstep`), as L-BFGS-B, and so scipy and
/// scikit-learn, run it: it looks for a step `stp` along a descent direction satisfying the strong
/// Wolfe conditions
///
///     f(stp) <= f(0) + ftol * stp * f'(0)     and     |f'(stp)| <= gtol * |f'(0)|,
///
/// with safeguarded cubic and quadratic interpolation. It is driven by reverse communication:
/// `start` returns the first trial step; the caller evaluates f and f' there and passes them to
/// `next`, which returns the next trial step, or that the search has ended.
struct StrongWolfeLineSearch {
    /// What the search asks for next.
    enum Action: Equatable {
        /// Evaluate f and f' at this step and call `next`.
        case evaluate(Double)
        /// Both conditions hold at the last evaluated step.
        case converged
        /// The search cannot make progress (rounding, the step bounds or the interval width);
        /// the last evaluated step is the best found (L-BFGS-B accepts it like a converged one).
        case warning
    }

    // L-BFGS-B's constants (lnsrlb).
    let ftol = 1e-3, gtol = 0.9, xtol = 0.1
    let stpmin: Double, stpmax: Double

    private var bracketed = false
    private var stage = 1
    private var finit = 0.0, ginit = 0.0, gtest = 0.0
    private var width = 0.0, width1 = 0.0
    private var stx = 0.0, fx = 0.0, gx = 0.0
    private var sty = 0.0, fy = 0.0, gy = 0.0
    private var stmin = 0.0, stmax = 0.0

    init(stpmin: Double = 0, stpmax: Double = 1e10) {
        self.stpmin = stpmin
        self.stpmax = stpmax
    }

    /// Begins a search from f(0) = `f`, f'(0) = `g` (negative) with the first trial step `stp`.
    mutating func start(step stp: Double, f: Double, g: Double) -> Action {
        bracketed = false
        stage = 1
        finit = f
        ginit = g
        gtest = ftol * g
        width = stpmax - stpmin
        width1 = width / 0.5
        (stx, fx, gx) = (0, f, g)
        (sty, fy, gy) = (0, f, g)
        stmin = 0
        stmax = stp + 4 * stp
        return .evaluate(stp)
    }

    /// Takes f and f' at the step last asked for; returns the next action.
    mutating func next(step: Double, f: Double, g: Double) -> Action {
        var stp = step
        let ftest = finit + stp * gtest
        if stage == 1 && f <= ftest && g >= 0 { stage = 2 }
        // The tests of dcsrch, in its order: a later one overrides an earlier one.
        var ended: Action?
        if bracketed && (stp <= stmin || stp >= stmax) { ended = .warning }
        if bracketed && stmax - stmin <= xtol * stmax { ended = .warning }
        if stp == stpmax && f <= ftest && g <= gtest { ended = .warning }
        if stp == stpmin && (f > ftest || g >= gtest) { ended = .warning }
        if f <= ftest && abs(g) <= gtol * -ginit { ended = .converged }
        if let ended { return ended }

        if stage == 1 && f <= fx && f > ftest {
            // The modified function psi(stp) = f(stp) - f(0) - ftol * stp * f'(0) guides the
            // step until one with psi <= 0 and f' >= 0 is found.
            var mx = (stx: stx, f: fx - stx * gtest, g: gx - gtest)
            var my = (stx: sty, f: fy - sty * gtest, g: gy - gtest)
            Self.step(x: &mx, y: &my, stp: &stp, fp: f - stp * gtest, dp: g - gtest, bracketed: &bracketed, stpmin: stmin, stpmax: stmax)
            (stx, fx, gx) = (mx.stx, mx.f + mx.stx * gtest, mx.g + gtest)
            (sty, fy, gy) = (my.stx, my.f + my.stx * gtest, my.g + gtest)
        } else {
            var mx = (stx: stx, f: fx, g: gx)
            var my = (stx: sty, f: fy, g: gy)
            Self.step(x: &mx, y: &my, stp: &stp, fp: f, dp: g, bracketed: &bracketed, stpmin: stmin, stpmax: stmax)
            (stx, fx, gx) = mx
            (sty, fy, gy) = my
        }
        // Bisect when the interval does not shrink enough.
        if bracketed {
            if abs(sty - stx) >= 0.66 * width1 { stp = stx + 0.5 * (sty - stx) }
            width1 = width
            width = abs(sty - stx)
            stmin = min(stx, sty)
            stmax = max(stx, sty)
        } else {
            stmin = stp + 1.1 * (stp - stx)
            stmax = stp + 4 * (stp - stx)
        }
        stp = min(max(stp, stpmin), stpmax)
        // With no further progress possible, return to the best step so far.
        if bracketed && (stp <= stmin || stp >= stmax) || bracketed && stmax - stmin <= xtol * stmax { stp = stx }
        return .evaluate(stp)
    }

    private typealias End = (stx: Double, f: Double, g: Double)

    /// `dcstep`: updates the interval of uncertainty [x, y] (each end with its function value
    /// and derivative) with the trial step `stp` (value `fp`, derivative `dp`), and computes the
    /// next trial step into `stp`.
    private static func step(x: inout End, y: inout End, stp: inout Double, fp: Double, dp: Double,
                             bracketed: inout Bool, stpmin: Double, stpmax: Double) {
        let (stx, fx, dx) = x
        let (sty, fy, dy) = y
        let sgnd = sign(dp) * sign(dx)
        let stpf: Double
        if fp > fx {
            // Case 1: a higher function value; the minimum is bracketed.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            var gamma = cubicGamma(theta, dx, dp)
            if stp < stx { gamma = -gamma }
            let p = (gamma - dx) + theta
            let q = ((gamma - dx) + gamma) + dp
            let stpc = stx + p / q * (stp - stx)
            let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx)
            stpf = abs(stpc - stx) <= abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2
            bracketed = true
        } else if sgnd < 0 {
            // Case 2: derivatives of opposite sign; the minimum is bracketed.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            var gamma = cubicGamma(theta, dx, dp)
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta
            let q = ((gamma - dp) + gamma) + dx
            let stpc = stp + p / q * (stx - stp)
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            stpf = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
            bracketed = true
        } else if abs(dp) < abs(dx) {
            // Case 3: the derivative decreases in magnitude.
            stpf = decreasingDerivativeStep(x: x, sty: sty, stp: stp, fp: fp, dp: dp, bracketed: bracketed, stpmin: stpmin, stpmax: stpmax)
        } else if bracketed {
            // Case 4: the derivative does not decrease in magnitude; minimise the cubic through y.
            let theta = 3 * (fp - fy) / (sty - stp) + dy + dp
            var gamma = cubicGamma(theta, dy, dp)
            if stp > sty { gamma = -gamma }
            let p = (gamma - dp) + theta
            let q = ((gamma - dp) + gamma) + dy
            stpf = stp + p / q * (sty - stp)
        } else {
            stpf = stp > stx ? stpmax : stpmin
        }
        // Update the interval.
        if fp > fx {
            y = (stp, fp, dp)
        } else {
            if sgnd < 0 { y = (stx, fx, dx) }
            x = (stp, fp, dp)
        }
        stp = stpf
    }

    /// dcstep's case 3 (no bracket yet or inside one, the derivative decreasing in magnitude): the
    /// next trial step.
    private static func decreasingDerivativeStep(x: End, sty: Double, stp: Double, fp: Double, dp: Double,
                                                 bracketed: Bool, stpmin: Double, stpmax: Double) -> Double {
        let (stx, fx, dx) = x
        let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
        var gamma = cubicGamma(theta, dx, dp, floorAtZero: true)
        if stp > stx { gamma = -gamma }
        let p = (gamma - dp) + theta
        let q = (gamma + (dx - dp)) + gamma
        let r = p / q
        let stpc = r < 0 && gamma != 0 ? stp + r * (stx - stp) : (stp > stx ? stpmax : stpmin)
        let stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if bracketed {
            let closer = abs(stpc - stp) < abs(stpq - stp) ? stpc : stpq
            return stp > stx ? min(stp + 0.66 * (sty - stp), closer) : max(stp + 0.66 * (sty - stp), closer)
        } else {
            let farther = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
            return min(max(farther, stpmin), stpmax)
        }
    }

    /// s * sqrt((theta/s)² - (d1/s)(d2/s)) with s = max(|theta|, |d1|, |d2|): the scaled root of
    /// dcstep's cubic interpolant (its argument floored at 0 where the cubic may not have a minimum).
    private static func cubicGamma(_ theta: Double, _ d1: Double, _ d2: Double, floorAtZero: Bool = false) -> Double {
        let s = max(abs(theta), abs(d1), abs(d2))
        let discriminant = (theta / s) * (theta / s) - (d1 / s) * (d2 / s)
        return s * (floorAtZero ? max(0, discriminant) : discriminant).squareRoot()
    }

    /// -1, 0 or 1 (numpy's `sign`).
    private static func sign(_ v: Double) -> Double { v > 0 ? 1 : (v < 0 ? -1 : 0) }
}
