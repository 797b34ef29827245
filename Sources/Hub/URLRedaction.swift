import Foundation

/// URLs as messages show them: a user name and password in the authority
/// (`https://user:pass@host/...`) become `***@`, so `HF_ENDPOINT` or a download URL given with
/// credentials never echoes them. Every message that shows a URL goes through here.
public enum URLRedaction {
    /// `url` without its user information.
    public static func redacted(_ url: URL) -> String { redacted(url.absoluteString) }

    /// `text` (a URL, or what was meant to be one: without `scheme://`, from its start) without the
    /// user information of its authority.
    public static func redacted(_ text: String) -> String {
        let authorityStart = text.range(of: "://")?.upperBound ?? text.startIndex
        let authorityEnd = text[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
        guard let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<authorityStart]) + "***@" + String(text[text.index(after: at)...])
    }
}
