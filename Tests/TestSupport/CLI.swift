import Foundation
import Heads

/// Runs the built `dinoprobe` executable and captures its output.
public enum CLI {
    public static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let tinyModel = repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/models/gelu_reg4").path
    public static let fixtureImages = repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/images").path

    /// The executable next to the test bundle, refused when older than the code it is built from
    /// (see `BuiltProduct`).
    public static var executable: URL {
        get throws { try BuiltProduct.checked("dinoprobe") }
    }

    public struct Result {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.environment = childEnvironment(environment)
        if let directory { process.currentDirectoryURL = directory }
        // Output goes to files, so a chatty process can never block on a full pipe.
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-out-\(UUID().uuidString)")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let outData = (try? Data(contentsOf: outURL)) ?? Data()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// This process's environment for a child run: CI=1, and without the variables a scheduler
    /// sets (Slurm, Kubernetes, RANK/WORLD_SIZE), so a suite run inside a job does not shard
    /// every extraction; tests that want them pass them explicitly.
    public static var inheritedEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("SLURM_") && !["JOB_COMPLETION_INDEX", "RANK", "WORLD_SIZE"].contains(key)
        }
        env["CI"] = "1"
        return env
    }

    /// `inheritedEnvironment` with `extra` on top, and the BLAS settings of `withFastBLAS`.
    public static func childEnvironment(_ extra: [String: String]) -> [String: String] {
        withFastBLAS(inheritedEnvironment.merging(extra) { $1 })
    }

    /// `env` plus what `FastBLAS.ensure()` would otherwise re-execute dinoprobe to set where `env`
    /// lacks it (OPENBLAS_CORETYPE for this CPU, the OpenMP OpenBLAS on LD_LIBRARY_PATH): the
    /// environment of the re-executed process, so that each run loads libtorch once, not twice.
    /// ExtractCLITests runs dinoprobe without them, to test the re-execution itself.
    public static func withFastBLAS(_ env: [String: String]) -> [String: String] {
        var env = env
        if env["OPENBLAS_CORETYPE"] == nil, let core = FastBLAS.coreTypeForThisCPU() {
            env["OPENBLAS_CORETYPE"] = core
            env["DINOPROBE_CHOSE_CORETYPE"] = "1"
        }
        let libraryPath = env["LD_LIBRARY_PATH"] ?? ""
        if !libraryPath.contains("openblas"), FileManager.default.fileExists(atPath: FastBLAS.openmpFolder + "/libopenblas.so.0") {
            env["LD_LIBRARY_PATH"] = libraryPath.isEmpty ? FastBLAS.openmpFolder : FastBLAS.openmpFolder + ":" + libraryPath
        }
        return env
    }

    public static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension CLI {
    /// Runs a bash script (for what Foundation's Process cannot express: raw argument bytes,
    /// resource limits). `$DINOPROBE` in the script is the executable.
    @discardableResult
    public static func shell(_ script: String, environment: [String: String] = [:]) throws -> Result {
        var env = environment
        env["DINOPROBE"] = try executable.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = childEnvironment(env)
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-out-\(UUID().uuidString)")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                      stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// Peak resident memory (MB) of the last `dinoprobe` run in a script run through
    /// `/usr/bin/time -f 'peak-rss-kb %M'`, parsed from its standard error.
    public static func peakRSSMegabytes(_ result: Result) -> Double? {
        guard let line = result.stderr.split(separator: "\n").last(where: { $0.hasPrefix("peak-rss-kb ") }),
              let kb = Double(line.dropFirst("peak-rss-kb ".count)) else { return nil }
        return kb / 1024
    }
}
