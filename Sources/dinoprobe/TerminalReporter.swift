import Dispatch
import Foundation
import Support

/// Renders library progress on standard error: on a terminal, a live line (count, rate, ETA)
/// drawn within half a second of a task starting and refreshed as it goes, replaced by one final
/// summary line; in logs (not a terminal, or CI set), a line per 10% of the work and the summary.
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
    private var lastLoggedTenth = 0
    private var finished = false
    private var timer: DispatchSourceTimer?

    init(label: String, total: Int?, unit: String, interactive: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.interactive = interactive
        guard interactive else { return }
        // The live line appears and its clock moves even while no item has finished yet.
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [weak self] in self?.redraw(force: true) }
        timer.resume()
        self.timer = timer
    }

    deinit { timer?.cancel() }

    func update(_ done: Int, note: String) {
        lock.lock()
        self.done = done
        self.note = note
        lock.unlock()
        if interactive {
            redraw(force: false)
        } else if let total, total > 0 {
            // Logs: a line each time another tenth of the work is done.
            let tenth = min(10, done * 10 / total)
            lock.lock()
            let due = tenth > lastLoggedTenth && done < total && !finished
            if due { lastLoggedTenth = tenth }
            lock.unlock()
            if due { Console.err(line(final: false)) }
        }
    }

    func resume(from done: Int) {
        lock.lock()
        (self.done, doneBefore, start, note) = (done, done, Date(), "resumed")
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
        guard !finished, force || now.timeIntervalSince(lastDraw) >= 0.1 else { lock.unlock(); return }
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
