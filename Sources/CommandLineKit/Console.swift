import Foundation
import Support

/// The only place dinoprobe writes to the terminal. Text is made safe to show: bytes of file
/// names that are not UTF-8 appear as `\xNN`, and control characters that could drive the
/// terminal (escape sequences hidden in a file name or a tensor name) appear as `\u{NN}`.
public enum Console {
    private static let lock = NSLock()

    /// A line on standard output.
    public static func out(_ text: String) {
        write(sanitize(text) + "\n", to: STDOUT_FILENO)
    }

    /// A line on standard error.
    public static func err(_ text: String) {
        write(sanitize(text) + "\n", to: STDERR_FILENO)
    }

    /// A progress line on standard error. Only dinoprobe's own redraw sequence at its start
    /// (carriage return, erase line) and line breaks at its end reach the terminal as they are;
    /// the text between is sanitised like any other.
    public static func errRaw(_ text: String) {
        let redraw = "\r\u{1B}[K"
        var body = Substring(text)
        let prefix = body.hasPrefix(redraw) ? redraw : ""
        body = body.dropFirst(prefix.count)
        var suffix = ""
        while body.hasSuffix("\n") { body = body.dropLast(); suffix += "\n" }
        write(prefix + sanitize(String(body)) + suffix, to: STDERR_FILENO)
    }

    /// Output is written unbuffered, straight to the descriptors, so nothing printed is lost
    /// when the process ends abruptly (Ctrl-C); this is kept for clarity at exit points.
    public static func flush() {}

    private static func write(_ text: String, to fd: Int32) {
        lock.lock(); defer { lock.unlock() }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }  // a closed pipe: nothing more can be shown
            offset += n
        }
    }

    /// `text` with escaped file-name bytes shown as `\xNN` and control characters other than
    /// newline and tab (a carriage return included: it could overwrite the line) escaped.
    /// Values from outside a message (file names, tensor names) are escaped where the message is
    /// built, newlines included (`shown`); this is the last line of defence for everything else.
    public static func sanitize(_ text: String) -> String {
        TerminalText.escaped(text, keeping: ["\n", "\t"])
    }
}

/// A line of the command's output (standard output).
public func say(_ text: String = "") { Console.out(text) }

/// A line of diagnostics (standard error).
public func stderrPrint(_ text: String) { Console.err(text) }
