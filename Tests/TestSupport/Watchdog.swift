#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Runs work that may hang or balloon (a transfer against a hostile server) under a deadline and
/// measures how far it raised the process's peak memory, so that a test of it fails instead of
/// hanging or swamping the suite.
public enum Watchdog {
    /// What a watched run gave.
    public struct Outcome<T: Sendable>: Sendable {
        /// The body's result; nil when it had not returned by the deadline (its thread is left).
        public var result: Result<T, Error>?
        public var seconds: Double
        /// How far the peak resident memory rose above the resident memory at the start, in
        /// bytes; nil where the kernel cannot tell (not Linux).
        public var peakRise: Int64?
    }

    /// Runs `body` on a thread of its own and waits at most `seconds` for it.
    public static func run<T: Sendable>(within seconds: TimeInterval, _ body: @escaping @Sendable () throws -> T) -> Outcome<T> {
        let box = Box<T>()
        let measured = resetPeak()
        let before = status("VmRSS")
        let start = Date()
        let thread = Thread {
            let result = Result { try body() }
            box.set(result)
        }
        thread.stackSize = 8 << 20
        thread.start()
        let returned = box.done.wait(timeout: .now() + seconds) == .success
        let elapsed = Date().timeIntervalSince(start)
        let rise = measured ? status("VmHWM").flatMap { peak in before.map { peak - $0 } } : nil
        return Outcome(result: returned ? box.result : nil, seconds: elapsed, peakRise: rise)
    }

    /// Sets the kernel's high-water mark of this process's resident memory to its current size
    /// (Linux 4.0 and later: `5` into /proc/self/clear_refs).
    static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// A `/proc/self/status` memory line ("VmRSS", "VmHWM") in bytes.
    static func status(_ key: String) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let kilobytes = line.dropFirst(key.count + 1).split(separator: " ").first.flatMap { Int64($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    private final class Box<T: Sendable>: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var value: Result<T, Error>?
        var result: Result<T, Error>? { lock.lock(); defer { lock.unlock() }; return value }
        func set(_ result: Result<T, Error>) {
            lock.lock()
            value = result
            lock.unlock()
            done.signal()
        }
    }
}
