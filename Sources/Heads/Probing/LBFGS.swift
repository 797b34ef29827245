import Foundation

/// Settings of the L-BFGS minimiser. The defaults are those scikit-learn gives scipy's L-BFGS-B
/// in `LogisticRegression(solver="lbfgs", tol=1e-12, max_iter=1000)`, Meta's logistic-regression
/// protocol: 10 corrections, at most 50 evaluations per line search.
public struct LBFGSSettings: Sendable, Codable, Equatable {
    /// Stored correction pairs (scipy's `maxcor`).
    public var memory = 10
    /// Iterations (accepted steps) at most (`max_iter`).
    public var maxIterations = 1000
    /// Stop when max |gradient_i| <= this (`gtol`, sklearn's `tol`).
    public var gradientTolerance = 1e-12
    /// Stop when (f_old - f) / max(|f_old|, |f|, 1) <= this (`ftol`; sklearn: 64 machine epsilons).
    public var relativeReduction = 64 * Double.ulpOfOne
    /// Function evaluations per line search at most (`maxls`).
    public var maxLineSearchSteps = 50
    /// Function evaluations in all at most (`maxfun`).
    public var maxEvaluations = 15_000

    public init() {}
}

/// Why the minimiser stopped.
public enum LBFGSStop: String, Sendable, Codable {
    /// The largest gradient component fell to the gradient tolerance (converged).
    case gradient
    /// The relative reduction of f fell to its tolerance (converged).
    case reduction
    /// The iteration limit was reached.
    case iterations
    /// The evaluation limit was reached.
    case evaluations
    /// No step along the steepest descent direction decreased f (L-BFGS-B's "abnormal termination").
    case lineSearch

    /// True for the stops that mean the optimum was reached to the tolerances.
    public var converged: Bool { self == .gradient || self == .reduction }
}

/// Where the minimiser stopped.
public struct LBFGSResult: Sendable {
    /// The last accepted point and f there.
    public var x: [Double]
    public var value: Double
    /// Accepted steps (scipy's `nit`) and evaluations of f (`nfev`).
    public var iterations: Int
    public var evaluations: Int
    public var stop: LBFGSStop
}

/// Limited-memory BFGS for smooth unconstrained problems in Double, following scipy's
/// L-BFGS-B (which scikit-learn's `lbfgs` solver calls) with no bounds: the first step is
/// -g scaled to unit length, later ones -H g from the two-loop recursion with H0 = s'y / y'y of
/// the newest pair; the Moré–Thuente line search (strong Wolfe, ftol 1e-3, gtol 0.9); pairs
/// with s'y <= eps * (-g'd * step) skipped; the memory dropped and the step retried along -g
/// when a line search fails; the same stopping tests in the same order.
public enum LBFGS {
    /// Minimises `objective`, which writes the gradient at `x` into its second argument and
    /// returns f(x). Throws `HeadError.diverged` when f or the gradient is NaN or infinite at
    /// the start; later non-finite trial points count as failed line-search steps.
    public static func minimize(from start: [Double], settings s: LBFGSSettings = LBFGSSettings(),
                                objective: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Double) throws -> LBFGSResult {
        let n = start.count
        try require(n > 0, "L-BFGS", "nothing to minimise")
        try require(s.memory > 0 && s.maxIterations > 0 && s.maxLineSearchSteps > 0 && s.maxEvaluations > 0, "L-BFGS settings",
                    "memory and limits must be positive")
        try require(s.gradientTolerance >= 0 && s.relativeReduction >= 0, "L-BFGS settings", "tolerances must be non-negative")
        var x = start
        var g = [Double](repeating: 0, count: n)
        func evaluate(_ point: [Double], _ gradient: inout [Double]) throws -> Double {
            try point.withUnsafeBufferPointer { p in try gradient.withUnsafeMutableBufferPointer { try objective(p, $0) } }
        }
        var f = try evaluate(x, &g)
        var evaluations = 1
        guard f.isFinite, g.allSatisfy(\.isFinite) else { throw HeadError.diverged("the objective is not finite at the starting point") }
        func done(_ stop: LBFGSStop, _ iterations: Int) -> LBFGSResult {
            LBFGSResult(x: x, value: f, iterations: iterations, evaluations: evaluations, stop: stop)
        }
        if maxAbs(g) <= s.gradientTolerance { return done(.gradient, 0) }

        var memory = CorrectionPairs(capacity: s.memory, size: n)
        var iterations = 0
        var d = [Double](repeating: 0, count: n)
        var trial = [Double](repeating: 0, count: n), trialGradient = [Double](repeating: 0, count: n)
        while true {
            memory.direction(gradient: g, into: &d)
            let gd0 = dot(g, d)
            let firstStep = iterations == 0 ? min(1 / dot(d, d).squareRoot(), 1e10) : 1
            let accepted = try lineSearch(from: x, along: d, f: f, gd0: gd0, firstStep: firstStep, maxSteps: s.maxLineSearchSteps,
                                          trial: &trial, trialGradient: &trialGradient, evaluations: &evaluations, evaluate: evaluate)
            guard let (stp, fNew, gd) = accepted else {
                // No acceptable step: drop the memory and retry along -g, or give up if that was -g.
                if memory.isEmpty { return done(.lineSearch, iterations) }
                memory.clear()
                continue
            }
            // The step is taken: s = stp * d, y = g_new - g_old.
            let fOld = f
            for i in 0..<n { d[i] *= stp }
            var y = trialGradient
            for i in 0..<n { y[i] -= g[i] }
            swap(&x, &trial)
            swap(&g, &trialGradient)
            f = fNew
            iterations += 1
            if iterations >= s.maxIterations { return done(.iterations, iterations) }
            if evaluations > s.maxEvaluations { return done(.evaluations, iterations) }
            if maxAbs(g) <= s.gradientTolerance { return done(.gradient, iterations) }
            if fOld - f <= s.relativeReduction * max(abs(fOld), abs(f), 1) { return done(.reduction, iterations) }
            let sy = (gd - gd0) * stp
            if sy <= Double.ulpOfOne * (-gd0 * stp) { continue }  // too little curvature: skip the pair
            memory.append(s: d, y: y, sy: sy)
        }
    }

    /// The line search: trial points x + stp * d until the strong Wolfe conditions hold (the
    /// accepted step, f and g'd there; nil when none is found). The last trial is left in
    /// `trial` and `trialGradient`.
    private static func lineSearch(from x: [Double], along d: [Double], f: Double, gd0: Double, firstStep: Double, maxSteps: Int,
                                   trial: inout [Double], trialGradient: inout [Double], evaluations: inout Int,
                                   evaluate: ([Double], inout [Double]) throws -> Double) throws -> (step: Double, f: Double, gd: Double)? {
        guard gd0 < 0 && gd0.isFinite else { return nil }
        var accepted: (step: Double, f: Double, gd: Double)?
        var search = StrongWolfeLineSearch()
        var action = search.start(step: firstStep, f: f, g: gd0)
        var trials = 0
        while case let .evaluate(stp) = action, trials < maxSteps {
            for i in 0..<x.count { trial[i] = stp * d[i] + x[i] }
            let ft = try evaluate(trial, &trialGradient)
            trials += 1
            evaluations += 1
            let gd = dot(trialGradient, d)
            guard ft.isFinite, gd.isFinite, trialGradient.allSatisfy(\.isFinite) else { break }
            action = search.next(step: stp, f: ft, g: gd)
            if action == .converged || action == .warning { accepted = (stp, ft, gd) }
        }
        return accepted
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += a[i] * b[i] }
        return sum
    }

    static func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
}

/// The newest correction pairs (s, y) of L-BFGS and the two-loop recursion over them.
struct CorrectionPairs {
    private var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
    private var yy = 1.0, sy = 1.0
    let capacity: Int
    let size: Int

    init(capacity: Int, size: Int) {
        self.capacity = capacity
        self.size = size
    }

    var isEmpty: Bool { s.isEmpty }

    mutating func clear() {
        s = []; y = []; rho = []
        (yy, sy) = (1, 1)
    }

    /// Stores a pair (dropping the oldest beyond `capacity`); `sy` = s'y > 0.
    mutating func append(s newS: [Double], y newY: [Double], sy newSY: Double) {
        if s.count == capacity {
            s.removeFirst(); y.removeFirst(); rho.removeFirst()
        }
        s.append(newS); y.append(newY); rho.append(1 / newSY)
        yy = LBFGS.dot(newY, newY)
        sy = newSY
    }

    /// d = -H g, with H the L-BFGS inverse-Hessian approximation (H0 = s'y / y'y of the newest
    /// pair; -g itself with no pairs).
    func direction(gradient g: [Double], into d: inout [Double]) {
        for i in 0..<size { d[i] = -g[i] }
        guard !s.isEmpty else { return }
        var alpha = [Double](repeating: 0, count: s.count)
        for k in stride(from: s.count - 1, through: 0, by: -1) {
            alpha[k] = rho[k] * LBFGS.dot(s[k], d)
            let a = alpha[k]
            y[k].withUnsafeBufferPointer { yk in for i in 0..<size { d[i] -= a * yk[i] } }
        }
        let scale = sy / yy
        for i in 0..<size { d[i] *= scale }
        for k in 0..<s.count {
            let b = alpha[k] - rho[k] * LBFGS.dot(y[k], d)
            s[k].withUnsafeBufferPointer { sk in for i in 0..<size { d[i] += b * sk[i] } }
        }
    }
}
