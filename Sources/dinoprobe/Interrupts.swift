import Dispatch
import Foundation
import Support

/// Ctrl-C and `kill`: the run stops at once, removes the temporary files it was writing (so no
/// half-written output remains; finished files and cache entries are kept), says so in one
/// line, and exits with 130 (SIGINT) or 143 (SIGTERM).
enum Interrupts {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install() {
        for (signalNumber, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let removed = TemporaryFiles.removeAll()
                Console.flush()
                let name = signalNumber == SIGINT ? "interrupted" : "terminated"
                let note = removed > 0 ? "removed \(removed) unfinished file\(removed == 1 ? "" : "s")" : "no unfinished files"
                Console.err("\n\(name): stopped; \(note); files already completed (results, cache entries) are kept")
                _exit(code)
            }
            source.resume()
            sources.append(source)
        }
    }
}
