/// Colours for label masks.
public enum Palette {
    /// Pascal VOC's colour map: class i's colour from the bits of i, RGB triples for `count`
    /// classes (the palette of VOC's mask PNGs, and a good default for any classes).
    public static func voc(count: Int = 256) -> [UInt8] {
        var map: [UInt8] = []
        map.reserveCapacity(3 * max(0, count))
        for i in 0 ..< max(0, count) {
            var r = 0, g = 0, b = 0, c = i
            for j in 0 ..< 8 {
                r |= ((c >> 0) & 1) << (7 - j)
                g |= ((c >> 1) & 1) << (7 - j)
                b |= ((c >> 2) & 1) << (7 - j)
                c >>= 3
            }
            map += [UInt8(r), UInt8(g), UInt8(b)]
        }
        return map
    }
}
