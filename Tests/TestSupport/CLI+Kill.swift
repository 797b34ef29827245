import Foundation

extension CLI {
    /// Runs the executable with `arguments` and kills it outright (SIGKILL: no clean-up) a little
    /// after `checkpoint` appears. Returns whether it was killed (false: it finished first).
    public static func killAfterCheckpoint(_ arguments: [String], checkpoint: String, timeout: TimeInterval = 120) throws -> Bool {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.environment = childEnvironment([:])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: checkpoint) && process.isRunning && Date() < deadline {
            usleep(5_000)
        }
        usleep(200_000)  // some steps past the first checkpoint
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }
}
