import CommandLineKit
import Foundation
import Support

/// Ctrl-C and `kill`: the run stops at once, removes the temporary files it was writing (so no
/// half-written output remains; finished files and cache entries are kept), says so in one
/// line, and exits with 130 (SIGINT) or 143 (SIGTERM).
enum Interrupts {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let lock = NSLock()
    nonisolated(unsafe) private static var kept: [(key: String, note: String)] = []

    /// Notes something an interruption keeps (e.g. the latest checkpoint), for the message;
    /// a later note under the same key replaces the earlier one.
    static func keep(_ key: String, _ note: String) {
        lock.lock()
        defer { lock.unlock() }
        kept.removeAll { $0.key == key }
        kept.append((key, note))
    }

    static func install() {
        for (signalNumber, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let removed = TemporaryFiles.removeAll()
                Console.flush()
                let name = signalNumber == SIGINT ? "interrupted" : "terminated"
                let note = removed > 0 ? "removed \(removed) unfinished file\(removed == 1 ? "" : "s")" : "no unfinished files"
                lock.lock()
                let extra = kept.map { "; kept \($0.key) \($0.note)" }.joined()
                lock.unlock()
                Console.err("\n\(name): stopped; \(note); files already completed (results, cache entries) are kept\(extra)")
                _exit(code)
            }
            source.resume()
            sources.append(source)
        }
    }
}
