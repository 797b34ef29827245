import CommandLineKit
import Foundation

/// `transformers`' forward in a child process (`scripts/bench_transformers.py`), timed one call
/// at a time, so that `bench backbone` can interleave it with its own forward passes and pair the
/// two timings: both then see the same state of a shared machine.
final class ReferenceForward {
    /// What the reference said when it was ready: torch version, model class, attention.
    let about: [String: Any]
    private let process = Process()
    private let toReference = Pipe(), fromReference = Pipe()
    private var pending = Data()

    /// Starts `python script --model model --threads threads` and waits until it has loaded.
    init(python: String, script: String, model: URL, threads: Int) throws {
        signal(SIGPIPE, SIG_IGN)  // a reference that died is an error from write, not the end of the bench
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--model", model.path, "--threads", "\(threads)"]
        process.standardInput = toReference
        process.standardOutput = fromReference
        do { try process.run() } catch {
            throw BenchReferenceError("cannot start \(python) \(script): \(error.localizedDescription)")
        }
        about = try Self.readReply(from: fromReference.fileHandleForReading, pending: &pending, process: process)
        guard about["ready"] as? Bool == true else { throw BenchReferenceError("the reference did not say it was ready") }
    }

    deinit { close() }

    /// Seconds the reference takes for one forward pass of `batch` images of `size` x `size` px.
    func seconds(batch: Int, size: Int = 224) throws -> Double {
        guard process.isRunning else { throw BenchReferenceError("the reference exited (status \(process.terminationStatus))") }
        do { try toReference.fileHandleForWriting.write(contentsOf: Data("\(batch) \(size)\n".utf8)) } catch {
            throw BenchReferenceError("cannot write to the reference: \(error.localizedDescription)")
        }
        let reply = try Self.readReply(from: fromReference.fileHandleForReading, pending: &pending, process: process)
        guard let seconds = reply["seconds"] as? Double, seconds.isFinite, seconds > 0 else {
            throw BenchReferenceError("the reference answered without a time: \(reply)")
        }
        return seconds
    }

    /// Ends the reference (end of its input) and waits for it.
    func close() {
        guard process.isRunning else { return }
        try? toReference.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The next line the reference wrote, parsed as a JSON object (lines are short; at most 64 KiB).
    private static func readReply(from handle: FileHandle, pending: inout Data, process: Process) throws -> [String: Any] {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw BenchReferenceError("the reference wrote something other than a JSON line: \(String(decoding: line.prefix(200), as: UTF8.self))")
                }
                return object
            }
            guard pending.count < 1 << 16 else { throw BenchReferenceError("the reference wrote a line longer than 64 KiB") }
            let chunk = handle.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw BenchReferenceError("the reference exited (status \(process.terminationStatus)) before answering; its messages are above")
            }
            pending.append(chunk)
        }
    }
}

/// The reference process could not be started or did not answer as agreed.
struct BenchReferenceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "bench reference: " + description }
}
