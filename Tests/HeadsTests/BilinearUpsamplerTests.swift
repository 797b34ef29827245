import Foundation
import Heads
import SafeTensors
import XCTest

final class BilinearUpsamplerTests: XCTestCase {
    /// Against PyTorch F.interpolate(bilinear, align_corners=False), up, down and mixed.
    func testForwardMatchesPyTorch() throws {
        let file = try Fixtures.file("upsample.safetensors")
        let cases = try JSONDecoder().decode([String].self, from: Data((file.metadata["cases"] ?? "").utf8))
        XCTAssertEqual(cases.count, 6)
        for name in cases {
            let size = try JSONDecoder().decode([Int].self, from: Data((file.metadata["\(name).size"] ?? "").utf8))
            let (b, c, h, w, oh, ow) = (size[0], size[1], size[2], size[3], size[4], size[5])
            let up = try BilinearUpsampler(inputHeight: h, inputWidth: w, outputHeight: oh, outputWidth: ow)
            let output = try up.forward(try file.floats("\(name).input"), batch: b, channels: c)
            let expected = try file.floats("\(name).output")
            if let rowsText = file.metadata["\(name).rows"] {
                // Only some rows/columns are stored; plus the full per-channel sums.
                let keep = try JSONDecoder().decode([Int].self, from: Data(rowsText.utf8))
                var picked: [Float] = []
                for y in keep { for x in keep { picked += output[((y * ow + x) * c)..<((y * ow + x + 1) * c)] } }
                XCTAssertLessThan(maxAbsDiff(picked, expected), 1e-5, name)
                let sums = try JSONDecoder().decode([Double].self, from: Data((file.metadata["\(name).sums"] ?? "").utf8))
                for ch in 0..<c {
                    let sum = stride(from: ch, to: output.count, by: c).reduce(0.0) { $0 + Double(output[$1]) }
                    XCTAssertEqual(sum, sums[ch], accuracy: 1e-2, "\(name) channel \(ch) sum")
                }
            } else {
                XCTAssertLessThan(maxAbsDiff(output, expected), 1e-5, name)
            }
        }
    }

    /// <A x, y> == <x, Aᵀ y> for up, down and identity resizes.
    func testBackwardIsTheAdjoint() throws {
        for (h, w, oh, ow) in [(5, 7, 13, 11), (7, 9, 4, 5), (3, 3, 3, 3), (1, 4, 6, 2)] {
            let up = try BilinearUpsampler(inputHeight: h, inputWidth: w, outputHeight: oh, outputWidth: ow)
            let (b, c) = (2, 3)
            let x = randomArray(b * h * w * c, seed: 41), y = randomArray(b * oh * ow * c, seed: 42)
            let ax = try up.forward(x, batch: b, channels: c)
            let aty = try up.backward(y, batch: b, channels: c)
            let (left, right) = (dot(ax, y), dot(x, aty))
            print("adjoint check \(h)x\(w)->\(oh)x\(ow): <Ax,y>=\(left) <x,Aᵀy>=\(right)")
            XCTAssertEqual(left, right, accuracy: 1e-5 * max(1, abs(left)))
        }
    }

    func testBackwardMatchesFiniteDifferences() throws {
        let up = try BilinearUpsampler(inputHeight: 3, inputWidth: 4, outputHeight: 7, outputWidth: 5)
        let x = randomArray(3 * 4 * 2, seed: 43), r = randomArray(7 * 5 * 2, seed: 44)
        let analytic = try up.backward(r, batch: 1, channels: 2)
        let numeric = try finiteDifferences(x) { Float(dot(try up.forward($0, batch: 1, channels: 2), r)) }
        assertGradient(analytic, numeric, tolerance: 1e-3, "bilinear upsampling backward")
    }

    func testBadSizesThrow() throws {
        XCTAssertThrowsError(try BilinearUpsampler(inputHeight: 0, inputWidth: 1, outputHeight: 1, outputWidth: 1))
        let up = try BilinearUpsampler(inputHeight: 2, inputWidth: 2, outputHeight: 3, outputWidth: 3)
        XCTAssertThrowsError(try up.forward([1, 2, 3], batch: 1, channels: 1))
    }
}
