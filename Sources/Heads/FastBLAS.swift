import COpenBLAS
import Foundation

/// Makes the BLAS fast without the user doing anything (measured: docs/performance.md):
/// OpenBLAS 0.3.21 does not recognise recent CPUs and falls back to slow kernels unless
/// `OPENBLAS_CORETYPE` names one, and the pthread OpenBLAS oversubscribes the cores next to
/// libtorch's OpenMP pool. Both are read when the libraries load, before `main`, so when the
/// environment lacks them `ensure()` sets them and re-executes the program once.
/// Values the user already set are respected; `DINOPROBE_NO_REEXEC=1` turns this off.
///
/// Library users get the CLI's speed by calling `FastBLAS.ensure()` first thing in `main`,
/// before any thread starts or any output is written (the process is replaced); programs that run
/// the backbone also call `Torch.keepFreedMemory()`, as the CLI does.
public enum FastBLAS {
    /// Where Debian's OpenMP build of OpenBLAS (`libopenblas0-openmp`) lives.
    public static let openmpFolder = "/usr/lib/x86_64-linux-gnu/openblas-openmp"

    /// Sets `OPENBLAS_CORETYPE` for this CPU and puts the OpenMP OpenBLAS on `LD_LIBRARY_PATH`
    /// where the environment lacks them, then re-executes the program once (returns when nothing
    /// needed changing, or when the re-execution is impossible: the program then runs slower).
    public static func ensure() {
        let env = ProcessInfo.processInfo.environment
        if env["DINOPROBE_KERNELS"] == nil, let value = env["OPENBLAS_CORETYPE"], let cap = ownKernelCap(forCoreType: value) {
            setenv("DINOPROBE_KERNELS", cap, 1)
        }
        guard env["DINOPROBE_NO_REEXEC"] == nil else { return }
        var changed = false
        if env["OPENBLAS_CORETYPE"] == nil, let core = coreTypeForThisCPU() {
            setenv("OPENBLAS_CORETYPE", core, 1)
            setenv("DINOPROBE_CHOSE_CORETYPE", "1", 1)
            changed = true
        }
        let libraryPath = env["LD_LIBRARY_PATH"] ?? ""
        if !libraryPath.split(separator: ":").contains(where: { $0.contains("openblas") }),
           FileManager.default.fileExists(atPath: openmpFolder + "/libopenblas.so.0") {
            setenv("LD_LIBRARY_PATH", libraryPath.isEmpty ? openmpFolder : openmpFolder + ":" + libraryPath, 1)
            changed = true
        }
        guard changed else { return }
        setenv("DINOPROBE_NO_REEXEC", "1", 1)
        // The raw argv, so arguments that are not UTF-8 survive the re-execution unchanged.
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure: carry on with the slower libraries.
    }

    /// dinoprobe's own vector kernels (the backbone's packed GEMM, the softmax kernels) follow the
    /// core type OpenBLAS is told to use: one without AVX-512 caps them at AVX2, so that
    /// `OPENBLAS_CORETYPE=Haswell` runs (and measures) the AVX2 code throughout. Returns the
    /// `DINOPROBE_KERNELS` value for `coreType`, or nil for no cap. A `DINOPROBE_KERNELS` the user
    /// set wins.
    public static func ownKernelCap(forCoreType coreType: String) -> String? {
        switch coreType.lowercased() {
        case "haswell", "zen", "excavator": "avx2"
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "nehalem", "core2", "penryn", "dunnington",
             "atom", "barcelona", "opteron", "prescott", "katmai", "coppermine", "northwood": "scalar"
        default: nil
        }
    }

    /// The OpenBLAS kernel family for this CPU, from /proc/cpuinfo flags.
    public static func coreTypeForThisCPU() -> String? {
        guard let info = procFile("/proc/cpuinfo"),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// Which of dinoprobe's own vector kernels run, and why, for `info`.
    public static var ownKernels: String {
        let kernel = SoftmaxKernel.automatic.resolved
        let running = kernel == .scalar
            ? "scalar (no packed GEMM: libtorch's linear for the backbone; plain C softmax kernels)"
            : "\(kernel) (the backbone's packed GEMM on float32 CPU runs, the softmax kernels)"
        guard let value = ProcessInfo.processInfo.environment["DINOPROBE_KERNELS"] else { return running + "; the widest this CPU has" }
        return running + "; DINOPROBE_KERNELS=\(value)"
    }

    /// Where OPENBLAS_CORETYPE came from, for `info`.
    public static var coreTypeOrigin: String {
        let env = ProcessInfo.processInfo.environment
        guard let value = env["OPENBLAS_CORETYPE"] else { return "(unset: OpenBLAS detects the CPU itself)" }
        if env["DINOPROBE_CHOSE_CORETYPE"] != nil { return "\(value) (chosen by dinoprobe for this CPU)" }
        let best = coreTypeForThisCPU()
        if let best, best != value {
            return "\(value) (set in the environment; this CPU could use \(best): unset OPENBLAS_CORETYPE to let dinoprobe choose)"
        }
        return "\(value) (set in the environment)"
    }

    /// What the loaded OpenBLAS reports: kernel core, threads, build configuration and file.
    public static var report: (core: String, threads: Int, config: String, library: String) {
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let maps = procFile("/proc/self/maps") ?? ""
        let library = maps.split(separator: "\n").compactMap { line -> String? in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.contains("libopenblas") else { return nil }
            return String(path)
        }.first ?? "unknown"
        return (core, Int(openblas_get_num_threads()), config, library)
    }

    /// Reads a /proc file (they report a size of 0, so read to the end).
    private static func procFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }
}
