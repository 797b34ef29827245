import Foundation

/// Progress of a long task on standard error: a live line (count, rate, ETA) on a terminal,
/// and an occasional plain line when the output goes to a log.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let unit: String
    private let total: Int?
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var lastLoggedFraction = -1.0
    private let interactive: Bool
    private let lock = NSLock()
    private var finished = false

    /// `total` nil when unknown; `unit` names the counted things ("images", "iters").
    public init(_ label: String, total: Int?, unit: String = "images") {
        self.label = label
        self.total = total
        self.unit = unit
        interactive = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil
    }

    /// Reports `done` items so far; `note` is appended (e.g. a loss).
    public func update(_ done: Int, note: String = "") {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        if interactive {
            guard now.timeIntervalSince(lastPrint) >= 0.1 || done == total else { return }
            lastPrint = now
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(done, elapsed: elapsed, note: note)).utf8))
        } else {
            // Logs: a line per 10% of the work, or every 30 s when the total is unknown.
            let fraction = total.map { Double(done) / Double(max($0, 1)) } ?? 0
            let due = total != nil ? fraction >= lastLoggedFraction + 0.1 : now.timeIntervalSince(lastPrint) >= 30
            guard due else { return }
            lastLoggedFraction = (fraction * 10).rounded(.down) / 10
            lastPrint = now
            FileHandle.standardError.write(Data((line(done, elapsed: elapsed, note: note) + "\n").utf8))
        }
    }

    /// Ends the live line with a summary.
    public func finish(_ done: Int, note: String = "") {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        let text = line(done, elapsed: Date().timeIntervalSince(start), note: note, final: true)
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    private func line(_ done: Int, elapsed: TimeInterval, note: String, final: Bool = false) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label): \(done)"
        if let total { text += "/\(total)" }
        text += " \(unit), \(Self.formatRate(rate)) \(unit)/s"
        if final {
            text += ", \(Self.formatDuration(elapsed))"
        } else if let total, rate > 0, done < total {
            text += ", ETA \(Self.formatDuration(Double(total - done) / rate))"
        }
        if !note.isEmpty { text += ", \(note)" }
        return text
    }

    static func formatRate(_ r: Double) -> String { r >= 100 ? String(format: "%.0f", r) : String(format: "%.1f", r) }

    /// "42s", "3m05s", "1h02m".
    public static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return seconds < 10 ? String(format: "%.1fs", seconds) : "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
