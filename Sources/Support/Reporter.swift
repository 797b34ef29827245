/// Where library code reports what a long run is doing: progress of its tasks and one-line
/// notices (a cache hit, a file removed). Libraries never print; the command line renders these
/// (a live line with count, rate and ETA on a terminal, a line per 10% in logs), and tests or
/// embedding programs can collect them or stay silent.
public protocol Reporter: Sendable {
    /// Starts a task of `total` items (nil when unknown), counted in `unit`.
    func task(_ name: String, total: Int?, unit: String) -> ProgressTask
    /// A notice worth a line of its own.
    func note(_ message: String)
}

/// One running task: `update` as items are done, `finish` once at the end.
public protocol ProgressTask: AnyObject, Sendable {
    func update(_ done: Int, note: String)
    func finish(_ done: Int, note: String)
    /// The first `done` items were done by an earlier process (a resumed run): they count toward
    /// the total, not toward this process's rate. Call before the first `update`.
    func resume(from done: Int)
}

extension ProgressTask {
    public func resume(from done: Int) { update(done, note: "resumed") }
    public func update(_ done: Int) { update(done, note: "") }
    public func finish(_ done: Int) { finish(done, note: "") }
}

extension Reporter {
    public func task(_ name: String, total: Int?) -> ProgressTask { task(name, total: total, unit: "images") }
}

/// Reports nothing (the default for library calls).
public struct SilentReporter: Reporter {
    public init() {}
    public func task(_ name: String, total: Int?, unit: String) -> ProgressTask { SilentTask() }
    public func note(_ message: String) {}
}

final class SilentTask: ProgressTask {
    func update(_ done: Int, note: String) {}
    func finish(_ done: Int, note: String) {}
}
