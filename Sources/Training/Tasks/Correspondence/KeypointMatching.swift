import Foundation
import Heads

/// The patch features of one image for keypoint matching: L2-normalised per patch, on a
/// `grid` x `grid` lattice that covers a `side` x `side` square of original pixels (the image
/// padded at its right and bottom to its longer side, as Probe3D's SPair evaluation does).
///
/// Coordinates: a keypoint (x, y) names the pixel whose centre is (x + 0.5, y + 0.5); patch j's
/// centre is (j + 0.5) * side / grid. So pixel x sits at grid coordinate
/// `u = (x + 0.5) * grid / side - 0.5`, clamped to [0, grid - 1] (the border patches' values
/// extend outwards): PyTorch's `interpolate(align_corners=False)` / `grid_sample(align_corners=False, padding_mode="border")`.
public struct KeypointFeatureGrid: Sendable {
    public let grid: Int, dim: Int
    /// [grid, grid, dim], each patch of unit length (an all-zero patch stays zero).
    public let features: [Float]
    public let side: Int
    public let imageWidth: Int, imageHeight: Int

    /// Normalises `patchTokens` [grid, grid, dim]; throws on a shape mismatch or a non-finite value.
    public init(patchTokens: [Float], grid: Int, dim: Int, imageWidth: Int, imageHeight: Int) throws {
        guard grid > 0, dim > 0, patchTokens.count == grid * grid * dim, imageWidth > 0, imageHeight > 0 else {
            throw TrainingError.incompatible("keypoint grid: \(patchTokens.count) values for a \(grid)x\(grid)x\(dim) grid")
        }
        guard patchTokens.allSatisfy(\.isFinite) else { throw TrainingError.incompatible("keypoint grid: a feature is not finite") }
        var out = patchTokens
        for p in 0..<(grid * grid) { Self.normalise(&out[(p * dim)..<((p + 1) * dim)]) }
        (self.grid, self.dim, features, side) = (grid, dim, out, max(imageWidth, imageHeight))
        (self.imageWidth, self.imageHeight) = (imageWidth, imageHeight)
    }

    static func normalise(_ v: inout ArraySlice<Float>) {
        let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { for i in v.indices { v[i] /= norm } }
    }

    /// The grid coordinate of pixel index `x` (see the type's comment), before clamping.
    public func gridCoordinate(_ x: Double) -> Double { (x + 0.5) * Double(grid) / Double(side) - 0.5 }

    /// Bilinear weights along one axis for pixel coordinate `c`: the two patches and the second's weight.
    /// A pixel beyond the outer centres reads the border patch alone (weight exactly 0), so the
    /// clamped margin repeats the border value exactly, as PyTorch's does.
    func axis(_ c: Double) -> (Int, Int, Float) {
        let u = min(max(gridCoordinate(c), 0), Double(grid - 1))
        let i0 = Int(u.rounded(.down)), i1 = min(i0 + 1, grid - 1)
        return (i0, i1, i0 == i1 ? 0 : Float(u - Double(i0)))
    }

    /// The feature at pixel (x, y): bilinear between the four nearest patch centres, then
    /// normalised to unit length.
    public func feature(x: Double, y: Double) -> [Float] {
        let (x0, x1, fx) = axis(x), (y0, y1, fy) = axis(y)
        var out = [Float](repeating: 0, count: dim)
        for (gy, gx, w) in [(y0, x0, (1 - fy) * (1 - fx)), (y0, x1, (1 - fy) * fx), (y1, x0, fy * (1 - fx)), (y1, x1, fy * fx)] {
            let base = (gy * grid + gx) * dim
            for d in 0..<dim { out[d] += w * features[base + d] }
        }
        var slice = out[...]
        Self.normalise(&slice)
        return Array(slice)
    }

    /// Cosine of each of `vectors` with every patch, upsampled bilinearly (the covered square's
    /// pixel grid, `interpolate(align_corners=False)`) and cut to the image: one
    /// [imageHeight, imageWidth] map per vector. One matrix product for all (the grid is read once).
    public func similarity(to vectors: [[Float]]) throws -> [[Float]] {
        guard vectors.allSatisfy({ $0.count == dim }) else { throw TrainingError.incompatible("a vector's width is not the features' \(dim)") }
        let n = grid * grid
        var cosines = [Float](repeating: 0, count: vectors.count * n)
        BLAS.gemm(vectors.flatMap { $0 }, features, transposeB: true, into: &cosines, m: vectors.count, n: n, k: dim)  // [K, D] x [G*G, D]^T
        let columns = (0..<imageWidth).map { axis(Double($0)) }, rowAxes = (0..<imageHeight).map { axis(Double($0)) }
        return (0..<vectors.count).map { k in
            var rows = [Float](repeating: 0, count: grid * imageWidth)  // width pass
            for r in 0..<grid {
                let base = k * n + r * grid
                for (x, (c0, c1, w)) in columns.enumerated() { rows[r * imageWidth + x] = (1 - w) * cosines[base + c0] + w * cosines[base + c1] }
            }
            var out = [Float](repeating: 0, count: imageHeight * imageWidth)
            for (y, (r0, r1, w)) in rowAxes.enumerated() {
                for x in 0..<imageWidth { out[y * imageWidth + x] = (1 - w) * rows[r0 * imageWidth + x] + w * rows[r1 * imageWidth + x] }
            }
            return out
        }
    }
}

/// Where a source keypoint lands in the target: the most similar pixel (first in row-major
/// order on ties) and, with a window, the soft-argmax around it.
public enum KeypointMatching {
    /// Temperature of the soft-argmax (SFNet's beta, as GeoAware-SC's window soft-argmax uses).
    public static let temperature = 0.02

    /// The predicted target pixel of each source keypoint (pixel indices). With `window` W, the
    /// coordinates are averaged over the (2W + 1)^2 pixels around the argmax that lie in the
    /// image, weighted by softmax(similarity / temperature).
    public static func match(_ points: [(x: Double, y: Double)], source: KeypointFeatureGrid, target: KeypointFeatureGrid,
                             window: Int?) throws -> [(argmax: (x: Int, y: Int), point: (x: Double, y: Double))] {
        try target.similarity(to: points.map { source.feature(x: $0.x, y: $0.y) }).map { map in
            var best = 0
            for i in map.indices where map[i] > map[best] { best = i }
            let (bx, by) = (best % target.imageWidth, best / target.imageWidth)
            guard let window else { return ((bx, by), (Double(bx), Double(by))) }
            return ((bx, by), softArgmax(map, width: target.imageWidth, height: target.imageHeight, at: (bx, by), window: window))
        }
    }

    /// The softmax-weighted mean of pixel coordinates in the window around `at` (see `match`).
    public static func softArgmax(_ map: [Float], width: Int, height: Int, at: (x: Int, y: Int), window: Int) -> (x: Double, y: Double) {
        let peak = Double(map[at.y * width + at.x])
        var (sum, sx, sy) = (0.0, 0.0, 0.0)
        for yy in max(0, at.y - window)...min(height - 1, at.y + window) {
            for xx in max(0, at.x - window)...min(width - 1, at.x + window) {
                let w = exp((Double(map[yy * width + xx]) - peak) / temperature)
                (sum, sx, sy) = (sum + w, sx + w * Double(xx), sy + w * Double(yy))
            }
        }
        return (sx / sum, sy / sum)
    }
}
