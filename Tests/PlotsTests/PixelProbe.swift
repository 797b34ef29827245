import Foundation
import Images
import XCTest

/// Reading pictures back in tests: pixels, colours in regions, blank borders.
enum PixelProbe {
    /// The RGB triple at (x, y).
    static func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
        let o = (y * image.width + x) * 3
        return Array(image.pixels[o..<(o + 3)])
    }

    /// Every (x, y) in `rect` (clipped to the image) whose colour is exactly `colour`.
    static func find(_ colour: [UInt8], in image: RGBImage, rect: CGRect? = nil) -> [(x: Int, y: Int)] {
        let r = (rect ?? CGRect(x: 0, y: 0, width: image.width, height: image.height))
            .intersection(CGRect(x: 0, y: 0, width: image.width, height: image.height))
        guard !r.isNull, !r.isEmpty else { return [] }
        var hits: [(x: Int, y: Int)] = []
        for y in Int(r.minY)..<Int(r.maxY.rounded(.up)) {
            for x in Int(r.minX)..<Int(r.maxX.rounded(.up)) where pixel(image, x, y) == colour { hits.append((x, y)) }
        }
        return hits
    }

    /// How many pixels in `rect` are dark (every channel below 128): text in ink.
    static func darkCount(_ image: RGBImage, in rect: CGRect) -> Int {
        var n = 0
        for y in Int(rect.minY)..<Int(rect.maxY) {
            for x in Int(rect.minX)..<Int(rect.maxX) where pixel(image, x, y).allSatisfy({ $0 < 128 }) { n += 1 }
        }
        return n
    }

    /// Whether the rightmost and bottom `band` pixels are all white (nothing was cut off there).
    static func rightAndBottomAreWhite(_ image: RGBImage, band: Int) -> Bool {
        let white: [UInt8] = [255, 255, 255]
        for y in 0..<image.height {
            for x in 0..<image.width where x >= image.width - band || y >= image.height - band {
                if pixel(image, x, y) != white { return false }
            }
        }
        return true
    }

    /// Whether all four borders, `band` pixels wide, are white.
    static func bordersAreWhite(_ image: RGBImage, band: Int) -> Bool {
        let rotated = try? RGBImage(width: image.width, height: image.height,
                                    pixels: stride(from: image.pixels.count - 3, through: 0, by: -3).flatMap { image.pixels[$0..<($0 + 3)] })
        return rightAndBottomAreWhite(image, band: band) && (rotated.map { rightAndBottomAreWhite($0, band: band) } ?? false)
    }

    /// The PNG decoded by the image decoder (libpng), for comparing with the rendered pixels.
    static func decode(_ png: Data) throws -> RGBImage {
        try ImageDecoder.decode(data: png, path: "test.png")
    }
}
