import Foundation
import FoundationXML
import Images
@testable import Plots
import XCTest

/// The HTML page: escaping, embedded pictures, nothing external.
final class HTMLReportTests: XCTestCase {
    let nasty = "<script>&\""

    func smallPNG(_ value: UInt8, width: Int = 3) throws -> Data {
        try PNGEncoder.encode(pixels: [UInt8](repeating: value, count: width * 2 * 3), width: width, height: 2, channels: 3)
    }

    func report() throws -> (HTMLReport, [Data]) {
        let pngs = try [smallPNG(10), smallPNG(200, width: 5), smallPNG(90)]
        var r = HTMLReport(title: "Report \(nasty)")
        r.heading("Classes \(nasty)")
        r.paragraph("It's 5 > 3 & 2 < 4")
        r.keyValues([("model", "dinov3 \(nasty)"), ("top-1", "91.2%")])
        r.table(header: ["class", "accuracy"], rows: [["tench", "99%"], [nasty, "80%"], ["short row"]], highlightRow: 1)
        r.image(png: pngs[0], caption: "confusion \(nasty)")
        r.gallery([.init(png: pngs[1], caption: "right", correct: true), .init(png: pngs[2], caption: nasty, correct: false)])
        return (r, pngs)
    }

    func testTextIsEscapedAndThePageIsWellFormed() throws {
        let html = try report().0.html()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        XCTAssertFalse(html.contains("<script"), "unescaped markup")
        XCTAssertTrue(html.contains("<td>&lt;script&gt;&amp;&quot;</td>"))
        XCTAssertTrue(html.contains("alt=\"&lt;script&gt;&amp;&quot;\""))
        XCTAssertTrue(html.contains("It&#39;s 5 &gt; 3 &amp; 2 &lt; 4"))
        XCTAssertEqual(html.components(separatedBy: "<tr class=\"highlight\">").count, 2)
        XCTAssertTrue(html.contains("<tr class=\"highlight\"><td>&lt;script&gt;&amp;&quot;</td><td>80%</td></tr>"))
        XCTAssertTrue(html.contains("<tr><td>short row</td><td></td></tr>"))
        XCTAssertTrue(html.contains("<figure class=\"correct\">") && html.contains("<figure class=\"wrong\">"))

        // The page parses as XML too (every element closed, every attribute quoted), and the
        // parser reads the escaped name back as the original text.
        let texts = try XMLTexts(html)
        XCTAssertTrue(texts.strings.contains(nasty), "\(texts.strings)")
        XCTAssertTrue(texts.strings.contains("Report \(nasty)"))
        XCTAssertEqual(texts.elements.filter { $0 == "img" }.count, 3)
    }

    func testImagesAreDataURIsOfTheSameBytesAndNothingIsExternal() throws {
        let (r, pngs) = try report()
        let html = r.html()
        let prefix = "src=\"data:image/png;base64,"
        let sources = html.components(separatedBy: prefix).dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(sources.compactMap { Data(base64Encoded: $0) }, pngs)
        XCTAssertEqual(html.components(separatedBy: "src=").count - 1, pngs.count, "a source that is not a data URI")
        for external in ["http:", "https:", "href=", "<link", "url(", "@import", "\"//"] {
            XCTAssertFalse(html.contains(external), external)
        }

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).html").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try r.write(to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), html)
    }

    func testThumbnailsAreSmallAndAntialiased() throws {
        // One-pixel black and white stripes: antialiased shrinking turns them grey.
        let w = 400, h = 100
        let stripes = try RGBImage(width: w, height: h, pixels: (0..<(w * h)).flatMap { i -> [UInt8] in
            let v: UInt8 = (i % w) % 2 == 0 ? 0 : 255
            return [v, v, v]
        })
        let png = try Thumbnail.png(stripes, maxSide: 100)
        let thumb = try PixelProbe.decode(png)
        XCTAssertEqual([thumb.width, thumb.height], [100, 25])
        for x in [10, 50, 90] { XCTAssertTrue((100...155).contains(PixelProbe.pixel(thumb, x, 12)[0]), "\(PixelProbe.pixel(thumb, x, 12))") }
        let small = try RGBImage(width: 5, height: 4, pixels: [UInt8](repeating: 7, count: 60))
        XCTAssertEqual(try PixelProbe.decode(Thumbnail.png(small, maxSide: 100)), small)
        XCTAssertEqual(try PixelProbe.decode(Thumbnail.png(try RGBImage(width: 1000, height: 3, pixels: [UInt8](repeating: 9, count: 9000)),
                                                           maxSide: 10)).height, 1)
        XCTAssertThrowsError(try Thumbnail.png(small, maxSide: 0))
    }
}

/// Text nodes and element names of a document read by Foundation's XML parser.
final class XMLTexts: NSObject, XMLParserDelegate {
    private(set) var strings: [String] = []
    private(set) var elements: [String] = []
    private var current = ""

    init(_ text: String) throws {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.propertyListReadCorrupt) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(name)
        if let alt = attributes["alt"] { strings.append(alt) }
        flush()
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { flush() }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    private func flush() {
        if !current.isEmpty { strings.append(current) }
        current = ""
    }
}
