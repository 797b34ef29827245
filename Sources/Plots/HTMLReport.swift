import Foundation
import Support

/// One self-contained HTML5 page: headings, paragraphs, tables, and PNG pictures embedded as
/// `data:` URIs, styled by a small inline style sheet. The page refers to nothing outside
/// itself (no scripts, fonts, style sheets or images to fetch), and all text is escaped.
public struct HTMLReport: Sendable {
    /// A thumbnail of a gallery, framed green when `correct` is true, red when false.
    public struct GalleryItem: Sendable {
        public var png: Data
        public var caption: String
        public var correct: Bool?

        public init(png: Data, caption: String, correct: Bool? = nil) {
            (self.png, self.caption, self.correct) = (png, caption, correct)
        }
    }

    public var title: String
    private var body: [String] = []

    /// An empty page; `title` names it and heads it.
    public init(title: String) { self.title = title }

    /// A section heading.
    public mutating func heading(_ text: String) { body.append("<h2>\(Self.escape(text))</h2>") }

    /// The page's result in large type (e.g. "val top-1 91.23%"), with a line below it.
    public mutating func headline(_ text: String, detail: String) {
        body.append("<p class=\"headline\" id=\"headline\">\(Self.escape(text))</p><p class=\"headline-detail\">\(Self.escape(detail))</p>")
    }

    /// A collapsed section titled `summary`, holding what `content` adds.
    public mutating func collapsed(_ summary: String, _ content: (inout HTMLReport) -> Void) {
        var inner = HTMLReport(title: title)
        content(&inner)
        body.append("<details><summary>\(Self.escape(summary))</summary>\(inner.body.joined(separator: "\n"))</details>")
    }

    /// A paragraph of plain text.
    public mutating func paragraph(_ text: String) { body.append("<p>\(Self.escape(text))</p>") }

    /// A two-column table of names and values.
    public mutating func keyValues(_ pairs: [(String, String)]) {
        let rows = pairs.map { "<tr><th scope=\"row\">\(Self.escape($0.0))</th><td>\(Self.escape($0.1))</td></tr>" }
        body.append("<table class=\"kv\"><tbody>\(rows.joined())</tbody></table>")
    }

    /// A table; short rows are padded with empty cells to the header's width. Row
    /// `highlightRow` (an index into `rows`) is shown highlighted.
    public mutating func table(header: [String], rows: [[String]], highlightRow: Int? = nil) {
        let columns = max(header.count, rows.map(\.count).max() ?? 0)
        let head = header.isEmpty ? "" : "<thead><tr>\(header.map { "<th>\(Self.escape($0))</th>" }.joined())</tr></thead>"
        let lines = rows.enumerated().map { i, row in
            let cells = (row + Array(repeating: "", count: columns - row.count)).map { "<td>\(Self.escape($0))</td>" }
            return (i == highlightRow ? "<tr class=\"highlight\">" : "<tr>") + cells.joined() + "</tr>"
        }
        body.append("<table>\(head)<tbody>\(lines.joined())</tbody></table>")
    }

    /// A picture with a caption below it.
    public mutating func image(png: Data, caption: String) {
        body.append("<figure>\(Self.img(png, alt: caption))<figcaption>\(Self.escape(caption))</figcaption></figure>")
    }

    /// Thumbnails in a grid, each with its caption (see `Thumbnail` for making them small).
    public mutating func gallery(_ items: [GalleryItem]) {
        let figures = items.map { item -> String in
            let verdict = item.correct.map { $0 ? " class=\"correct\"" : " class=\"wrong\"" } ?? ""
            return "<figure\(verdict)>\(Self.img(item.png, alt: item.caption))<figcaption>\(Self.escape(item.caption))</figcaption></figure>"
        }
        body.append("<div class=\"gallery\">\(figures.joined())</div>")
    }

    /// The page.
    public func html() -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>\(Self.escape(title))</title>
        <style>\(HTMLReportStyle.css)</style>
        </head>
        <body>
        <h1>\(Self.escape(title))</h1>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    /// Writes the page to `path` (whole file or nothing).
    public func write(to path: String) throws { try AtomicFile.write(Data(html().utf8), to: path) }

    /// `text` safe in HTML text and in quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    private static func img(_ png: Data, alt: String) -> String {
        "<img src=\"data:image/png;base64,\(png.base64EncodedString())\" alt=\"\(escape(alt))\" />"
    }
}

/// The inline style sheet of `HTMLReport` pages.
enum HTMLReportStyle {
    static let css = """
    body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #212529; }
    .headline { font-size: 2.2em; font-weight: 700; margin: 0.2em 0 0; } .headline-detail { color: #555; margin-top: 0.2em; }
    details { margin-top: 2em; } summary { cursor: pointer; font-weight: 600; }
    h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
    table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
    th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
    thead th { background: #f1f3f5; } table.kv th { background: #f8f9fa; font-weight: 600; }
    td { font-variant-numeric: tabular-nums; } tr.highlight td { background: #fff3bf; font-weight: 600; }
    figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; margin-top: 0.3em; overflow-wrap: anywhere; }
    img { max-width: 100%; height: auto; display: block; }
    .gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0.8em; }
    .gallery figure { margin: 0; padding: 4px; border: 3px solid #ddd; border-radius: 4px; }
    .gallery figure.correct { border-color: #2f9e44; } .gallery figure.wrong { border-color: #e03131; }
    """
}
