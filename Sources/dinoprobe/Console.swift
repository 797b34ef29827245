import Foundation
import Support

/// The only place dinoprobe writes to the terminal. Text is made safe to show: bytes of file
/// names that are not UTF-8 appear as `\xNN`, and control characters that could drive the
/// terminal (escape sequences hidden in a file name or a tensor name) appear as `\u{NN}`.
enum Console {
    private static let lock = NSLock()

    /// A line on standard output.
    static func out(_ text: String) {
        write(sanitize(text) + "\n", to: STDOUT_FILENO)
    }

    /// A line on standard error.
    static func err(_ text: String) {
        write(sanitize(text) + "\n", to: STDERR_FILENO)
    }

    /// Raw text on standard error (progress lines with their own carriage returns).
    static func errRaw(_ text: String) {
        write(PathCodec.display(text), to: STDERR_FILENO)
    }

    /// Output is written unbuffered, straight to the descriptors, so nothing printed is lost
    /// when the process ends abruptly (Ctrl-C); this is kept for clarity at exit points.
    static func flush() {}

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

    /// `text` with escaped file-name bytes shown as `\xNN` and control characters (other than
    /// newline and tab) as `\u{NN}`.
    static func sanitize(_ text: String) -> String {
        let shown = PathCodec.display(text)
        guard shown.unicodeScalars.contains(where: isControl) else { return shown }
        var out = String.UnicodeScalarView()
        for scalar in shown.unicodeScalars {
            if isControl(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        (s.value < 0x20 && s != "\n" && s != "\t") || (0x7F...0x9F).contains(s.value)
    }
}

/// A line of the command's output (standard output).
func say(_ text: String = "") { Console.out(text) }

/// A line of diagnostics (standard error).
func stderrPrint(_ text: String) { Console.err(text) }
