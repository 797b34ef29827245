import Evaluation
import Foundation
import Images

/// A perceptual colour map for scalar fields (depth in metres...): 256 sRGB entries looked up
/// as matplotlib's `Colormap.__call__(x, bytes=True)` does: entry int(x * 256), 1 and above the
/// last, below 0 the first.
public struct ColorMap: Sendable, Equatable {
    public let name: String
    /// 256 RGB triples.
    public let table: [UInt8]

    /// matplotlib's "plasma" (the map Meta's depth visualisation uses), its 8-bit values.
    /// Made by `colormaps["plasma"](np.linspace(0, 1, 256), bytes=True)` (matplotlib 3.11).
    public static let plasma = ColorMap(name: "plasma", hex: [
        "0c078610078713068915068a18068b1b068c1d068d1f058e21058f2305902505912705922905932b05942d04942f0495",
        "3104963304973404983604983804993a049a3b039a3d039b3f039c40039c42039d44039e45039e47029f49029f4a02a0",
        "4c02a14e02a14f02a25101a25201a35401a35601a35701a45901a45a00a55c00a55e00a55f00a66100a66200a66400a7",
        "6500a76700a76800a76a00a76c00a86d00a86f00a87000a87200a87300a87500a87601a87801a87901a87b02a87c02a7",
        "7e03a77f03a78104a78204a78405a68506a68607a68807a58908a58b09a48c0aa48e0ca48f0da3900ea3920fa29310a1",
        "9511a19612a09713a099149f9a159e9b179e9d189d9e199c9f1a9ba01b9ba21c9aa31d99a41e98a51f97a72197a82296",
        "a92395aa2494ac2593ad2692ae2791af2890b02a8fb12b8fb22c8eb42d8db52e8cb62f8bb7308ab83289b93388ba3487",
        "bb3586bc3685bd3784be3883bf3982c03b81c13c80c23d80c33e7fc43f7ec5407dc6417cc7427bc8447ac94579ca4678",
        "cb4777cc4876cd4975ce4a75cf4b74d04d73d14e72d14f71d25070d3516fd4526ed5536dd6556dd7566cd7576bd8586a",
        "d95969da5a68db5b67dc5d66dc5e66dd5f65de6064df6163df6262e06461e16560e26660e3675fe3685ee46a5de56b5c",
        "e56c5be66d5ae76e5ae87059e87158e97257ea7356ea7455eb7654ec7754ec7853ed7952ed7b51ee7c50ef7d4fef7e4e",
        "f0804df0814df1824cf2844bf2854af38649f38748f48947f48a47f58b46f58d45f68e44f68f43f69142f79241f79341",
        "f89540f8963ff8983ef9993df99a3cfa9c3bfa9d3afa9f3afaa039fba238fba337fba436fca635fca735fca934fcaa33",
        "fcac32fcad31fdaf31fdb030fdb22ffdb32efdb52dfdb62dfdb82cfdb92bfdbb2bfdbc2afdbe29fdc029fdc128fdc328",
        "fdc427fdc626fcc726fcc926fccb25fccc25fcce25fbd024fbd124fbd324fad524fad624fad824f9d924f9db24f8dd24",
        "f8df24f7e024f7e225f6e425f6e525f5e726f5e926f4ea26f3ec26f3ee26f2f026f2f126f1f326f0f525f0f623eff821",
    ].joined())

    init(name: String, hex: String) {
        let bytes = Array(hex.utf8)
        self.name = name
        table = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt8(String(decoding: bytes[$0...$0 + 1], as: UTF8.self), radix: 16) ?? 0 }
    }

    /// The colour of `x` in [0, 1] (NaN: the first colour).
    public func rgb(_ x: Double) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = x.isNaN ? 0 : Int(min(max(x * 256, 0), 255))
        return (table[3 * i], table[3 * i + 1], table[3 * i + 2])
    }

    /// `values` (row-major, `width` x `height`) coloured over `range`: low end first colour,
    /// high end last; values for which `isEmpty` holds (default: not finite) painted `empty`.
    public func image(_ values: [Float], width: Int, height: Int, range: ClosedRange<Float>,
                      empty: (r: UInt8, g: UInt8, b: UInt8) = (0, 0, 0), isEmpty: (Float) -> Bool = { !$0.isFinite }) throws -> RGBImage {
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, values.count == area, range.lowerBound.isFinite, range.upperBound.isFinite, range.upperBound > range.lowerBound else {
            throw MetricsError.shapeMismatch("a \(width)x\(height) field of \(values.count) values over \(range) cannot be coloured")
        }
        let span = Double(range.upperBound - range.lowerBound)
        var pixels = [UInt8](repeating: 0, count: values.count * 3)
        for (i, v) in values.enumerated() {
            let c = isEmpty(v) ? empty : rgb(Double(v - range.lowerBound) / span)
            (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (c.r, c.g, c.b)
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A colour bar `width` x `height`: low values at the bottom, high at the top.
    public func bar(width: Int, height: Int) throws -> RGBImage {
        let column = (0..<height).map { Float(height - 1 - $0) / Float(max(1, height - 1)) }
        return try image(column.flatMap { [Float](repeating: $0, count: width) }, width: width, height: height, range: 0...1)
    }
}
