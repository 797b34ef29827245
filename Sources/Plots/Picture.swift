import Foundation
import Images
import Support

/// Something drawn as an RGB picture; PNG bytes and PNG files come with it.
public protocol Picture {
    /// The picture.
    func render() throws -> RGBImage
}

extension Picture {
    /// PNG bytes of the picture.
    public func pngData() throws -> Data { try render().pngData() }

    /// Writes the picture as PNG to `path` (whole file or nothing).
    public func write(to path: String) throws { try AtomicFile.write(pngData(), to: path) }
}

extension RGBImage {
    /// PNG bytes of the image (through the code base's one PNG writer).
    func pngData() throws -> Data {
        try PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: 3)
    }
}
