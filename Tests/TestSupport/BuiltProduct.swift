import Foundation

/// The executables the tests run, never stale. `swift test` compiles the executables' modules (the
/// test targets that run them depend on them) but does not link the executables, so a product
/// older than an object file it is linked from is relinked first (`swift build --product`, once
/// per test process); one still stale after that fails the test that wanted it, with what to do.
/// (`swift test --skip-build` after an edit tests the old objects, the executables' as the bundle's.)
public enum BuiltProduct {
    /// A product that is missing or older than its inputs.
    public struct Stale: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The folder holding the test bundle, where `swift build` writes the products.
    public static var folder: URL {
        var dir = Bundle.main.bundleURL
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { dir = bundle.bundleURL.deletingLastPathComponent() }
        return dir
    }

    private static let dinoprobe = fresh("dinoprobe")
    private static let customHead = fresh("custom-head")

    /// The `dinoprobe` or `custom-head` executable, checked (and rebuilt if stale) once per test process.
    public static func checked(_ name: String) throws -> URL {
        switch name {
        case "dinoprobe": return try dinoprobe.get()
        case "custom-head": return try customHead.get()
        default: return try fresh(name).get()
        }
    }

    /// The product, rebuilt first when `check` finds it stale.
    static func fresh(_ name: String) -> Result<URL, Stale> {
        guard case .failure = check(name) else { return check(name) }
        let said = rebuild(name)
        return check(name).mapError { Stale(description: "\($0.description) (swift build --product \(name): \(said))") }
    }

    /// Runs `swift build --product name` on the build folder the tests came from; returns the
    /// end of its output. `swift test` holds SwiftPM's lock while the tests run, so the build
    /// ignores it and takes a lock of its own instead (parallel test processes build one at a time).
    static func rebuild(_ name: String) -> String {
        let configuration = folder.lastPathComponent
        var scratch = folder.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: scratch.appendingPathComponent("workspace-state.json").path) {
            scratch = scratch.deletingLastPathComponent()  // .build/<triple>/debug
        }
        let lock = open(scratch.appendingPathComponent("dinoprobe-tests-rebuild.lock").path, O_CREAT | O_RDWR, 0o644)
        defer { if lock >= 0 { close(lock) } }
        if lock >= 0 { flock(lock, LOCK_EX) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-rebuild-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--package-path", CLI.repoRoot.path, "--scratch-path", scratch.path,
                             "-c", configuration, "--product", name, "--ignore-lock"]
        guard FileManager.default.createFile(atPath: log.path, contents: nil), let handle = try? FileHandle(forWritingTo: log) else { return "no log file" }
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { return "\(error)" }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return String(text.split(separator: "\n").suffix(3).joined(separator: "; "))
    }

    /// The product `name` in `folder`, or why it cannot be trusted.
    public static func check(_ name: String, in folder: URL = folder) -> Result<URL, Stale> {
        let product = folder.appendingPathComponent(name)
        guard let built = modified(product.path) else {
            return .failure(Stale(description: "no \(name) in \(folder.path): run `swift build --build-tests` (or plain `swift test`)"))
        }
        let linkList = folder.appendingPathComponent("\(name).product/Objects.LinkFileList").path
        let objects = ((try? String(contentsOfFile: linkList, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        if let newer = objects.first(where: { (modified($0) ?? .distantPast) > built }) {
            return .failure(Stale(description: "\(product.path) is older than \(newer): it was not relinked after an edit; run `swift build --build-tests` (or plain `swift test`)"))
        }
        return .success(product)
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
