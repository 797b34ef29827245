import CTorch

/// Work spread over ATen's OpenMP threads at a coarser grain than its ops: whole tasks, each
/// run on one thread with every op inside it serial (see `ct_run_tasks`).
enum TeamTasks {
    /// Threads that `run` spreads its tasks over (1 where ATen's team cannot be used from here).
    static var threads: Int { Int(ct_task_threads()) }

    /// `body(i)` for every i in 0..<count, in parallel on the team's threads; the results in
    /// order of i. Throws the error of the first task (by index) that threw, after all finished.
    static func run<T>(count: Int, _ body: (Int) throws -> T) throws -> [T] {
        guard count > 0 else { return [] }
        var results = [Result<T, Error>?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            withoutActuallyEscaping(body) { body in
                // Each task writes only its own slot.
                let job = Job { i in slots[i] = Result { try body(i) } }
                withExtendedLifetime(job) {
                    ct_run_tasks(Int64(count), { context, index in
                        guard let context else { return }
                        Unmanaged<Job>.fromOpaque(context).takeUnretainedValue().run(Int(index))
                    }, Unmanaged.passUnretained(job).toOpaque())
                }
            }
        }
        return try results.enumerated().map { i, slot in
            guard let slot else { throw BackboneError.badInput("parallel task \(i) of \(count) did not run") }
            return try slot.get()
        }
    }

    /// The closure the C callback calls; lives for the duration of one `run`.
    private final class Job: @unchecked Sendable {
        let run: (Int) -> Void
        init(_ run: @escaping (Int) -> Void) { self.run = run }
    }
}
