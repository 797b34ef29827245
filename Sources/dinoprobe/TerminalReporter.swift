import CommandLineKit
import Datasets
import Foundation
import Support

/// Renders library progress on standard error: on a terminal, a live line (count, rate, ETA)
/// drawn within half a second of a task starting and refreshed as it goes, replaced by one final
/// summary line; in logs (not a terminal, or CI set), lines by time: the first a second after the
/// start, then one per further 10% of the work but at most every `logGap` seconds (and at least
/// every `logHeartbeat`), and the summary: a task of sub-second steps logs a few lines, not ten.
struct TerminalReporter: Reporter {
    static let shared = TerminalReporter()

    let interactive = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil

    func task(_ name: String, total: Int?, unit: String) -> ProgressTask {
        TerminalTask(label: name, total: total, unit: unit, interactive: interactive)
    }

    func note(_ message: String) { Console.err(message) }
}

final class TerminalTask: ProgressTask, @unchecked Sendable {
    private let label: String
    private let unit: String
    private let total: Int?
    private let interactive: Bool
    private var start = Date()
    private let lock = NSLock()
    private var done = 0
    /// Items done before this process took the task over (a resumed run): not in the rate.
    private var doneBefore = 0
    private var note = ""
    private var lastDraw = Date.distantPast
    private var lastLog: Date?
    private var loggedDone = 0
    static let logGap: TimeInterval = 5, logHeartbeat: TimeInterval = 60
    private var finished = false
    private var timer: DispatchSourceTimer?

    init(label: String, total: Int?, unit: String, interactive: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.interactive = interactive
        // The live line appears and its clock moves (a log's first line comes) even while no item has finished yet.
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + (interactive ? 0.5 : 1), repeating: interactive ? 0.5 : 1)
        timer.setEventHandler { [weak self] in if interactive { self?.redraw(force: true) } else { self?.logIfDue() } }
        timer.resume()
        self.timer = timer
    }

    deinit { timer?.cancel() }

    func update(_ done: Int, note: String) {
        lock.lock()
        self.done = done
        self.note = note
        lock.unlock()
        if interactive { redraw(force: false) } else { logIfDue() }
    }

    /// Logs: a line when the first second has passed, then per further tenth of the work no
    /// sooner than `logGap` after the last, and after `logHeartbeat` whatever the progress.
    private func logIfDue() {
        lock.lock()
        let now = Date()
        let gap = now.timeIntervalSince(lastLog ?? start)
        let tenthMore = total.map { done - loggedDone >= max(1, $0 / 10) } ?? false
        let due = !finished && (lastLog == nil ? gap >= 1 : (tenthMore && gap >= Self.logGap) || gap >= Self.logHeartbeat)
        if due { (lastLog, loggedDone) = (now, done) }
        lock.unlock()
        if due { Console.err(line(final: false)) }
    }

    func resume(from done: Int) {
        lock.lock()
        (self.done, doneBefore, start, note, loggedDone) = (done, done, Date(), "resumed", done)
        lock.unlock()
    }

    func finish(_ done: Int, note: String) {
        lock.lock()
        guard !finished else { lock.unlock(); return }
        finished = true
        self.done = done
        self.note = note
        lock.unlock()
        timer?.cancel()
        Console.errRaw((interactive ? "\r\u{1B}[K" : "") + line(final: true) + "\n")
    }

    private func redraw(force: Bool) {
        lock.lock()
        let now = Date()
        // Not before half a second: a rate over less (right after a resume) would mean nothing.
        guard !finished, now.timeIntervalSince(start) >= 0.5, force || now.timeIntervalSince(lastDraw) >= 0.1 else { lock.unlock(); return }
        lastDraw = now
        lock.unlock()
        Console.errRaw("\r\u{1B}[K" + line(final: false))
    }

    private func line(final: Bool) -> String {
        lock.lock(); defer { lock.unlock() }
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - doneBefore) / elapsed : 0
        // Byte counts read as megabytes.
        let (scale, shownUnit) = unit == "bytes" ? (1e6, "MB") : (1.0, unit)
        func count(_ n: Int) -> String { scale == 1 ? "\(n)" : String(format: "%.1f", Double(n) / scale) }
        var text = "\(label): \(count(done))"
        if let total { text += "/\(count(total))" }
        text += " \(shownUnit), \(Self.formatRate(rate / scale)) \(shownUnit)/s"
        if final {
            text += ", \(Self.formatDuration(elapsed))"
        } else if let total, rate > 0, done < total {
            text += ", ETA \(Self.formatDuration(Double(total - done) / rate))"
        } else {
            text += ", \(Self.formatDuration(elapsed))"
        }
        if !note.isEmpty { text += ", \(note)" }
        return text
    }

    static func formatRate(_ r: Double) -> String { r >= 100 ? String(format: "%.0f", r) : String(format: "%.1f", r) }

    /// "4.2s", "42s", "3m05s", "1h02m".
    static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return seconds < 10 ? String(format: "%.1fs", seconds) : "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}

/// A live download line on standard error.
final class DownloadLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil

    init() {}

    func show(_ p: DownloadProgress) {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(last) > (interactive ? 0.2 : 15) else { return }
        last = Date()
        Console.errRaw((interactive ? "\r\u{1B}[K" : "") + p.description + (interactive ? "" : "\n"))
    }

    /// Ends the line, if one was shown.
    func end() { if interactive && last != .distantPast { Console.errRaw("\n") } }
}
