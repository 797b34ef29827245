import Foundation

/// Debian's `chromium` run headless on local files: the DOM after the page's scripts ran, and
/// screenshots. Tests that need it skip when it is not installed, or fail when `CI` is set.
public struct HeadlessChromium {
    public let executable: String
    /// A fresh profile folder per browser, so runs do not share state.
    public let profile: URL

    /// The browser named by `CHROMIUM`, or the first of chromium, chromium-browser,
    /// google-chrome on the PATH (and /usr/bin/chromium).
    /// Nil when no browser is installed and `CI` is not set (the caller skips); throws when `CI`
    /// is set, because there the browser check must run.
    public static func find() throws -> HeadlessChromium? {
        let env = ProcessInfo.processInfo.environment
        let path = (env["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        let candidates = [env["CHROMIUM"]].compactMap { $0 }
            + ["chromium", "chromium-browser", "google-chrome"].flatMap { name in path.map { "\($0)/\(name)" } }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            let message = "chromium is not installed (scripts/setup --tests installs it)"
            if env["CI"] != nil { throw Missing(message: message + ", and CI is set: the browser check must run") }
            return nil
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-profile-\(UUID().uuidString)")
        return HeadlessChromium(executable: found, profile: profile)
    }

    public struct Missing: Error, CustomStringConvertible { let message: String; public var description: String { message } }
    public struct Failed: Error, CustomStringConvertible { public let description: String }

    /// Appended to a copy of a page: after `load`, writes how many images there are and how
    /// many failed to decode into the DOM.
    static let probe = """
    <script>addEventListener("load", () => { const imgs = Array.from(document.images);
    const p = document.createElement("pre"); p.id = "probe";
    p.textContent = "IMAGES " + imgs.length + " BROKEN " + imgs.filter(i => !i.complete || i.naturalWidth === 0).length;
    document.body.appendChild(p); });</script>
    """

    /// Opens a copy of `page` with the probe and returns how many images it shows and how many
    /// of them are broken, and the DOM.
    public func imageCheck(_ page: URL) throws -> (images: Int, broken: Int, dom: String) {
        let html = try String(contentsOf: page, encoding: .utf8)
        let probed = page.deletingLastPathComponent().appendingPathComponent("probed-\(UUID().uuidString).html")
        try Data(html.replacingOccurrences(of: "</body>", with: Self.probe + "\n</body>").utf8).write(to: probed)
        defer { try? FileManager.default.removeItem(at: probed) }
        let dom = try dumpDOM(probed)
        guard let line = dom.components(separatedBy: "\n").first(where: { $0.contains("id=\"probe\"") }),
              let range = line.range(of: #"IMAGES (\d+) BROKEN (\d+)"#, options: .regularExpression) else {
            throw Failed(description: "no probe output in the DOM of \(page.path)")
        }
        let numbers = line[range].split(separator: " ").compactMap { Int($0) }
        return (numbers[0], numbers[1], dom)
    }

    /// Where the element `id` of `page` ends, in CSS pixels from the top, in a window of
    /// `width` x `height` (nil when the page has no such element).
    public func bottom(of id: String, in page: URL, width: Int, height: Int) throws -> Double? {
        let html = try String(contentsOf: page, encoding: .utf8)
        let probed = page.deletingLastPathComponent().appendingPathComponent("probed-\(UUID().uuidString).html")
        let script = """
        <script>addEventListener("load", () => { const e = document.getElementById("\(id)");
        const p = document.createElement("pre"); p.id = "probe"; p.textContent = "BOTTOM " + (e ? e.getBoundingClientRect().bottom : -1);
        document.body.appendChild(p); });</script>
        """
        try Data(html.replacingOccurrences(of: "</body>", with: script + "\n</body>").utf8).write(to: probed)
        defer { try? FileManager.default.removeItem(at: probed) }
        let dom = String(decoding: try run(["--window-size=\(width),\(height)", "--virtual-time-budget=5000", "--dump-dom", probed.absoluteString]),
                         as: UTF8.self)
        guard let range = dom.range(of: #"BOTTOM (-?[0-9.]+)"#, options: .regularExpression) else { return nil }
        return Double(dom[range].dropFirst("BOTTOM ".count)).flatMap { $0 < 0 ? nil : $0 }
    }

    /// The serialized DOM of `file` once loaded and its scripts have run (virtual time: 5 s).
    public func dumpDOM(_ file: URL) throws -> String {
        let out = try run(["--virtual-time-budget=5000", "--dump-dom", file.absoluteString])
        return String(decoding: out, as: UTF8.self)
    }

    /// A PNG screenshot of `file` at `width` x `height` CSS pixels, written to `output`.
    public func screenshot(_ file: URL, to output: URL, width: Int, height: Int) throws {
        _ = try run(["--screenshot=\(output.path)", "--window-size=\(width),\(height)", "--hide-scrollbars", file.absoluteString])
    }

    /// Runs the browser with `arguments` after the headless ones; its standard output.
    private func run(_ arguments: [String], timeout: TimeInterval = 30) throws -> Data {
        let stdout = profile.deletingLastPathComponent().appendingPathComponent("chromium-out-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: stdout.path, contents: nil) else { throw Failed(description: "cannot create \(stdout.path)") }
        defer { try? FileManager.default.removeItem(at: stdout) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--headless", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
                             "--user-data-dir=\(profile.path)"] + (geteuid() == 0 ? ["--no-sandbox"] : []) + arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw Failed(description: "\(executable) took more than \(Int(timeout)) s")
        }
        guard process.terminationStatus == 0 else { throw Failed(description: "\(executable) exited with \(process.terminationStatus)") }
        return try Data(contentsOf: stdout)
    }

    public func removeProfile() { try? FileManager.default.removeItem(at: profile) }
}
