import Foundation
import Support

/// Where a data set download stands; passed to the progress callback about 4 times a second
/// while bytes arrive, once when they are all in, and once when extraction starts.
public struct DownloadProgress: Sendable, CustomStringConvertible {
    public enum Phase: String, Sendable { case downloading, extracting }

    public var phase: Phase
    /// Bytes received so far.
    public var bytes: Int64
    /// Bytes expected (the server's Content-Length), nil when unknown.
    public var total: Int64?
    /// Mean rate since the start, bytes per second.
    public var bytesPerSecond: Double
    /// Estimated seconds to go at that rate, nil when the total is unknown.
    public var secondsRemaining: Double? {
        guard let total, bytesPerSecond > 0 else { return nil }
        return Double(max(0, total - bytes)) / bytesPerSecond
    }
    /// 0...1, nil when the total is unknown.
    public var fraction: Double? {
        guard let total, total > 0 else { return nil }
        return min(1, Double(bytes) / Double(total))
    }

    public init(phase: Phase = .downloading, bytes: Int64, total: Int64?, bytesPerSecond: Double) {
        (self.phase, self.bytes, self.total, self.bytesPerSecond) = (phase, bytes, total, bytesPerSecond)
    }

    /// E.g. "downloading 12.3 MB / 341.7 MB (4%), 5.1 MB/s, ETA 1:04".
    public var description: String {
        if phase == .extracting { return "extracting \(Self.megabytes(bytes)) archive" }
        var text = "downloading \(Self.megabytes(bytes))"
        if let total { text += " / \(Self.megabytes(total))" }
        if let fraction { text += " (\(Int(fraction * 100))%)" }
        text += ", \(Self.megabytes(Int64(bytesPerSecond)))/s"
        if let eta = secondsRemaining, eta.isFinite { text += ", ETA \(Self.clock(eta))" }
        return text
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
