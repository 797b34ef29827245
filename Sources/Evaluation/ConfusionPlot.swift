import Foundation
import Support
import Images

/// A confusion matrix drawn as a heat map: rows are true classes, columns predicted classes,
/// each cell coloured white-to-blue by its share of the row (so the diagonal shows per-class
/// recall), with its count written in when it fits and is not zero. Class names label the rows
/// and (turned upright) the columns; names longer than `maxNameLength` characters keep their
/// start and end around ".." and characters outside printable ASCII show as '?'. Rows without true samples are grey. Cells shrink as the
/// class count grows; past about 120 classes the names are left out. The picture is drawn with
/// a built-in 5x7 pixel font and enlarged `scale` times (2 by default, 1 for very large plots).
public struct ConfusionPlot: Sendable {
    public let confusion: [[Int]]
    public let classNames: [String]
    public var title: String
    /// Longest class name shown; longer ones are cut in the middle ("a very lo..name 7").
    public var maxNameLength = 20
    /// Enlargement (nearest neighbour); nil picks 2, or 1 when the plot would be huge.
    public var scale: Int?

    /// Checks that `confusion` is K x K with non-negative counts for K = `classNames.count` >= 1.
    public init(confusion: [[Int]], classNames: [String], title: String = "Confusion matrix") throws {
        let k = classNames.count
        guard k > 0 else { throw MetricsError.empty("confusion plot without classes") }
        guard confusion.count == k else {
            throw MetricsError.shapeMismatch("confusion matrix has \(confusion.count) rows for \(k) class names")
        }
        for (t, row) in confusion.enumerated() {
            guard row.count == k else {
                throw MetricsError.shapeMismatch("confusion row \(t) has \(row.count) columns, expected \(k)")
            }
            if let bad = row.firstIndex(where: { $0 < 0 }) {
                throw MetricsError.badArgument("confusion count at row \(t), column \(bad) is negative (\(row[bad]))")
            }
        }
        self.confusion = confusion
        self.classNames = classNames
        self.title = title
    }

    /// The picture.
    public func render() throws -> RGBImage {
        let layout = ConfusionPlotLayout(plot: self)
        var canvas = PlotCanvas(width: layout.width, height: layout.height)
        draw(on: &canvas, layout)
        let s = scale ?? (max(layout.width, layout.height) <= 1400 ? 2 : 1)
        return try canvas.image(scale: min(max(s, 1), 8))
    }

    /// PNG bytes of the picture.
    public func pngData() throws -> Data {
        let image = try render()
        return try PNGEncoder.encode(pixels: image.pixels, width: image.width, height: image.height, channels: 3)
    }

    /// Writes the picture as PNG to `path` (whole file or nothing).
    public func write(to path: String) throws {
        try AtomicFile.write(pngData(), to: path)
    }

    /// Printable-ASCII version of `name`, cut to `maxNameLength` characters.
    func label(_ name: String) -> String {
        let ascii = String(name.map { ch -> Character in
            let s = ch.unicodeScalars
            return s.count == 1 && (0x20...0x7E).contains(s.first!.value) ? ch : "?"
        })
        let limit = max(5, maxNameLength)
        guard ascii.count > limit else { return ascii }
        // Keep both ends: the start says what it is, the end often tells similar names apart.
        let tail = (limit - 2) * 2 / 5
        return String(ascii.prefix(limit - 2 - tail)).trimmingCharacters(in: .whitespaces) + ".."
            + String(ascii.suffix(tail)).trimmingCharacters(in: .whitespaces)
    }
}
