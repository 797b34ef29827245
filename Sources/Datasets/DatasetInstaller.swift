import Foundation
import Hub
import Support

/// Installs a data set from a `.tgz` on the web so that it is either complete or does not count:
/// download into a hidden temporary file in the destination folder, check the md5, extract with
/// `tar` into a hidden temporary folder, write the ready marker into the extracted tree, then
/// rename it into place (one step). Any failure removes the temporary file and folder.
public enum DatasetInstaller {
    /// Name of the file whose presence marks a data set folder as complete and verified.
    public static let readyMarker = ".dinoprobe-ready"

    /// Whether `folder` holds a ready marker.
    public static func isReady(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/" + readyMarker)
    }

    /// Downloads `url` (a gzipped tar whose top folder is `stem`), checks its md5, and installs it
    /// as `destination/stem`; returns that path. Returns at once if it is already ready. Throws
    /// `DatasetError.notReady` rather than touch a `destination/stem` without a marker, and
    /// `downloadFailed`, `checksumMismatch` or `extractionFailed` otherwise; after a failure
    /// nothing new is left in `destination`. `required` names sub-folders the archive must hold;
    /// `maxBytes` bounds the download (the archive's published size): no more is read.
    public static func install(url: URL, md5 expected: String, stem: String, into destination: String, maxBytes: Int64,
                               required: [String] = [], idleTimeout: TimeInterval = 60,
                               progress: (@Sendable (DownloadProgress) -> Void)? = nil) throws -> String {
        let destination = FileSystem.absolute(destination)
        let target = destination + "/" + stem
        if isReady(target) { return target }
        if FileManager.default.fileExists(atPath: target) { throw DatasetError.notReady(folder: target, marker: readyMarker) }
        do {
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.badFile(path: destination, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        removeStaleTemporaries(in: destination, stem: stem)
        let token = "\(getpid())-\(UInt32.random(in: 0 ... UInt32.max))"
        let archive = destination + "/.\(stem).download-\(token).tgz"
        let staging = destination + "/.\(stem).extract-\(token)"
        defer {
            try? FileManager.default.removeItem(atPath: archive)
            try? FileManager.default.removeItem(atPath: staging)
        }

        let result = try HTTPDownloader.download(from: url, to: archive, maxBytes: maxBytes, idleTimeout: idleTimeout, progress: progress)
        let shown = URLRedaction.redacted(url)
        guard result.md5 == expected.lowercased() else {
            throw DatasetError.checksumMismatch(url: shown, expected: expected.lowercased(), got: result.md5)
        }
        progress?(DownloadProgress(phase: .extracting, bytes: result.bytes, total: result.bytes, bytesPerSecond: 0))
        try extract(archive: archive, into: staging)
        let extracted = staging + "/" + stem
        for sub in [""] + required where !FileSystem.isDirectory(extracted + (sub.isEmpty ? "" : "/" + sub)) {
            throw DatasetError.extractionFailed(archive: shown, reason: "the archive has no folder \(stem)\(sub.isEmpty ? "" : "/" + sub) (is the URL right?)")
        }
        let marker = "url \(shown)\nmd5 \(result.md5)\nbytes \(result.bytes)\ninstalled \(ISO8601DateFormatter().string(from: Date()))\n"
        do {
            try AtomicFile.write(Data(marker.utf8), to: extracted + "/" + readyMarker)
        } catch { throw DatasetError.extractionFailed(archive: shown, reason: "cannot write the ready marker (\(error))") }
        if rename(extracted, target) != 0 {
            let reason = String(cString: strerror(errno))
            if isReady(target) { return target }  // another process installed it meanwhile
            throw DatasetError.extractionFailed(archive: shown, reason: "cannot move the extracted folder to \(target) (\(reason))")
        }
        return target
    }

    /// Unpacks a `.tgz` with `tar` into `folder` (created).
    static func extract(archive: String, into folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.extractionFailed(archive: archive, reason: "cannot create \(folder) (\(error.localizedDescription))")
        }
        let tar = ["/bin/tar", "/usr/bin/tar"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/bin/tar"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tar)
        process.arguments = ["-xzf", archive, "-C", folder, "--no-same-owner", "--no-same-permissions"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DatasetError.extractionFailed(archive: archive, reason: "cannot run \(tar) (\(error.localizedDescription)); install tar")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let detail = message.split(separator: "\n").prefix(5).joined(separator: "; ")
            throw DatasetError.extractionFailed(archive: archive, reason: "tar exited with status \(process.terminationStatus)\(detail.isEmpty ? "" : ": \(detail)")")
        }
    }

    /// Removes temporaries of `stem` left by killed runs (their process no longer exists).
    static func removeStaleTemporaries(in folder: String, stem: String) {
        let prefixes = [".\(stem).download-", ".\(stem).extract-"]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let prefix = prefixes.first(where: { name.hasPrefix($0) }),
                  let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: folder + "/" + name)
            }
        }
    }
}
