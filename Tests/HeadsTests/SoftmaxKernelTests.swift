import CSegKernels
import Foundation
import Heads
import SafeTensors
import Support
import XCTest

/// The vectorised softmax cross-entropy kernels (SLEEF's exp) and their scalar fallback, against
/// double precision, each other and PyTorch.
final class SoftmaxKernelTests: XCTestCase {
    /// The kernels that run as themselves here: `.scalar` always, the SIMD ones on capable CPUs.
    private let kernels = [SoftmaxKernel.scalar, .avx2, .avx512].filter(\.isAvailable)

    /// Ordinary rows, then extremes: one huge logit, ±1e4 (most exps underflow), all equal at
    /// 0, -1e30 and 3e38, and the maximum in the last (partial-vector) lane.
    private func hardRows(classes k: Int) -> [[Float]] {
        var random = SeededRandom(seed: 21)
        var rows = (0..<4).map { _ in random.normals(count: k, std: 3) }
        var spike = [Float](repeating: 0, count: k)
        spike[k / 2] = 1e30
        rows.append(spike)
        rows.append(random.normals(count: k, std: 1e4))
        rows += [0, -1e30, 3e38].map { [Float](repeating: $0, count: k) }
        var last = random.normals(count: k, std: 1)
        last[k - 1] = 88
        rows.append(last)
        return rows
    }

    /// dp_softmax_rows (the backbone's attention softmax), every kernel, strided rows of widths
    /// from 1 to 201 (whole vectors, partial ones, and the 201 scores of ViT-S/16 at 224), in
    /// place, unscaled and scaled: within 1e-6 of double precision on the scaled floats, and the
    /// padding between rows untouched.
    func testSoftmaxRowsMatchDoublePrecision() throws {
        for kernel in [DP_SEG_KERNEL_SCALAR, DP_SEG_KERNEL_AVX2, DP_SEG_KERNEL_AVX512] where dp_seg_kernel_available(kernel) != 0 {
            for (k, scale) in [(1, 1), (7, 1), (16, 0.125), (37, 1), (37, 0.37), (201, 1), (201, 0.125)] as [(Int, Float)] {
                let rows = hardRows(classes: max(k, 2)).map { Array($0.prefix(k)) }
                let stride = k + 3
                var buffer = [Float](repeating: -7, count: rows.count * stride)
                for (r, row) in rows.enumerated() { buffer.replaceSubrange(r * stride..<(r * stride + k), with: row) }
                buffer.withUnsafeMutableBufferPointer { dp_softmax_rows(kernel, $0.baseAddress, rows.count, k, stride, scale) }
                for (r, row) in rows.enumerated() {
                    let x = row.map { Double($0 * scale) }, m = x.max() ?? 0
                    let sum = x.reduce(0) { $0 + exp($1 - m) }
                    for c in 0..<k {
                        XCTAssertEqual(Double(buffer[r * stride + c]), exp(x[c] - m) / sum, accuracy: 1e-6, "kernel \(kernel.rawValue), width \(k), scale \(scale), row \(r), column \(c)")
                    }
                    XCTAssertEqual(buffer[(r * stride + k)..<((r + 1) * stride)], [-7, -7, -7], "padding after row \(r)")
                }
            }
        }
    }

    /// dp_softmax_online_rows (attention over tiles of keys), every kernel: the hard rows in tiles
    /// of 16, 16 and 5 scores, each tile's exps times 3 values added to the outputs as attention
    /// does, then dp_softmax_online_finish: within 5e-6 of the softmax in base 2 in double
    /// precision. Its exp is within 1 ulp of 2^x from -125 to 0, within 2^-149 down to -126.5 and 0
    /// below, keeps a NaN, and gives every kernel the same bits (scripts/check-online-exp2 checks
    /// every float).
    func testOnlineSoftmaxOverTilesMatchesDoublePrecision() throws {
        let (k, width, ld) = (37, 3, 40), values = (0..<(37 * 3)).map { Float(($0 * 7) % 11) - 5 }
        let sweep = Array(stride(from: Float(-125), to: 0, by: 0.0131)) + [0, -0.5, -124.99999, -125, -125.00002, -126, -126.5, -126.50002, -127, -1e4, -.infinity, .nan]
        var firstExps: [UInt32]?
        for kernel in [DP_SEG_KERNEL_SCALAR, DP_SEG_KERNEL_AVX2, DP_SEG_KERNEL_AVX512] where dp_seg_kernel_available(kernel) != 0 {
            for scale in [Float(1), 0.37] {
                let rows = hardRows(classes: k)
                var maxima = [Float](repeating: -.infinity, count: rows.count), sums = [Float](repeating: 0, count: rows.count)
                var out = [Float](repeating: 0, count: rows.count * width), scores = [Float](repeating: 0, count: rows.count * ld)
                for first in [0, 16, 32] {
                    let n = min(16, k - first)
                    for (r, row) in rows.enumerated() { scores.replaceSubrange(r * ld..<(r * ld + n), with: row[first..<(first + n)]) }
                    if first == 16 {  // the tile's maxima given, as attention's score kernel finds them
                        let tileMaxima = rows.map { $0[first..<(first + n)].max()! }
                        dp_softmax_online_rows(kernel, &scores, rows.count, n, ld, scale, tileMaxima, &maxima, &sums, &out, width, width)
                    } else {
                        dp_softmax_online_rows(kernel, &scores, rows.count, n, ld, scale, nil, &maxima, &sums, &out, width, width)
                    }
                    for r in rows.indices { for j in 0..<n { for c in 0..<width { out[r * width + c] += scores[r * ld + j] * values[(first + j) * width + c] } } }
                }
                dp_softmax_online_finish(kernel, sums, rows.count, &out, width, width)
                for (r, row) in rows.enumerated() {
                    let x = row.map { Double($0 * scale) }, m = x.max()!, e = x.map { exp2($0 - m) }, sum = e.reduce(0, +)
                    for c in 0..<width {
                        let expected = e.indices.reduce(0.0) { $0 + e[$1] / sum * Double(values[$1 * width + c]) }
                        XCTAssertEqual(Double(out[r * width + c]), expected, accuracy: 5e-6, "kernel \(kernel.rawValue), scale \(scale), row \(r)")
                    }
                }
            }
            var exps = sweep, maximum: Float = 0, sum: Float = 0, unused: Float = 0
            dp_softmax_online_rows(kernel, &exps, 1, exps.count, exps.count, 1, [0], &maximum, &sum, &unused, 0, 0)
            for (x, y) in zip(sweep, exps) where !x.isNaN {
                if x < -126.5 {
                    XCTAssertEqual(y, 0, "kernel \(kernel.rawValue): 2^\(x)")
                } else if x < -125 {
                    XCTAssertLessThanOrEqual(abs(Double(y) - exp2(Double(x))), 0x1p-149, "kernel \(kernel.rawValue): 2^\(x)")
                } else {
                    let exact = exp2(Double(x))
                    XCTAssertLessThan(abs(Double(y) - exact), Double(Float(exact).ulp), "kernel \(kernel.rawValue): 2^\(x)")
                }
            }
            XCTAssert(exps.last!.isNaN, "kernel \(kernel.rawValue): NaN kept")
            if let firstExps { XCTAssertEqual(exps.map(\.bitPattern), firstExps, "kernel \(kernel.rawValue): the scalar kernel's bits") }
            firstExps = firstExps ?? exps.map(\.bitPattern)
        }
    }

    /// The vector kernels' exp is SLEEF's, inlined: it gives the library's bits on every 1021st
    /// bit pattern (all signs, exponents and NaNs; 4.2 million inputs) and on the edges of its
    /// range. (scripts/check-sleef-exp checks all 2^32; scripts/test runs it on every 61st.)
    func testInlinedExpEqualsTheSleefLibrary() throws {
        let edges: [Float] = [0, -0, 1, -1, 88.72283, 88.72284, 100, 100.00001, -103.99999, -104, -104.00001,
                              -87.33655, -87.33656, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        var inputs = edges + stride(from: UInt64(0), to: 1 << 32, by: 1021).map { Float(bitPattern: UInt32($0)) }
        inputs += [Float](repeating: 0, count: (16 - inputs.count % 16) % 16)
        var checked = 0
        for kernel in [DP_SEG_KERNEL_AVX2, DP_SEG_KERNEL_AVX512] where dp_seg_kernel_available(kernel) != 0 {
            var inlined = [Float](repeating: 0, count: inputs.count), library = inlined
            dp_exp(kernel, inputs, inputs.count, &inlined)
            XCTAssertEqual(dp_exp_sleef(kernel, inputs, inputs.count, &library), 1)
            let differing = inputs.indices.filter { i in
                inlined[i].bitPattern != library[i].bitPattern && !(inlined[i].isNaN && library[i].isNaN)
            }
            XCTAssertEqual(differing.count, 0, "kernel \(kernel.rawValue): first input differing \(differing.first.map { inputs[$0] } ?? 0)")
            XCTAssertEqual(inlined[0], 1)
            XCTAssertEqual(inlined[try XCTUnwrap(edges.firstIndex(of: 100.00001))], .infinity)
            XCTAssertEqual(inlined[try XCTUnwrap(edges.firstIndex(of: -104.00001))], 0)
            checked += 1
        }
        if checked == 0 { throw XCTSkip("no vector kernel runs on this CPU") }
    }

    /// Tolerances: |gradient - reference| <= 1e-6 (probabilities, gradient scale 1) and
    /// |loss - reference| <= 1e-5 * max(1, |reference|).
    func testEveryKernelMatchesDoublePrecisionSoftmax() throws {
        for kernel in kernels {
            let ce = SoftmaxCrossEntropy(kernel: kernel)
            var worst = (gradient: 0.0, loss: 0.0)
            for k in [32, 37, 150, 160] {
                for (r, row) in hardRows(classes: k).enumerated() {
                    let x = row.map(Double.init)
                    let m = x.max() ?? 0
                    let sum = x.reduce(0) { $0 + exp($1 - m) }
                    for label in [0, k / 2, k - 1] {
                        let (loss, gradient) = try ce.lossAndGradient(logits: row, labels: [label], classes: k)
                        let expected = log(sum) + m - x[label]
                        let what = "\(kernel) K=\(k) row \(r) label \(label)"
                        XCTAssertEqual(Double(loss), expected, accuracy: 1e-5 * max(1, abs(expected)), what)
                        var error = 0.0
                        for c in 0..<k {
                            let expected = exp(x[c] - m) / sum - (c == label ? 1.0 : 0.0)
                            error = max(error, abs(Double(gradient[c]) - expected))
                        }
                        XCTAssertLessThanOrEqual(error, 1e-6, what)
                        worst = (max(worst.gradient, error), max(worst.loss, abs(Double(loss) - expected) / max(1, abs(expected))))
                    }
                }
            }
            print(String(format: "softmax kernel %@ vs double: max gradient error %.2e, max relative loss error %.2e",
                         "\(kernel)", worst.gradient, worst.loss))
        }
    }

    func testScalarFallbackAndKernelChoice() {
        XCTAssertTrue(SoftmaxKernel.scalar.isAvailable)
        XCTAssertEqual(SoftmaxKernel.scalar.resolved, .scalar)
        let best = SoftmaxKernel.automatic.resolved
        XCTAssertNotEqual(best, .automatic)
        for kernel in SoftmaxKernel.allCases {
            XCTAssertEqual(kernel.resolved, kernel.isAvailable && kernel != .automatic ? kernel : best, "\(kernel)")
        }
        print("softmax kernel on this CPU: \(best)")
    }

    /// The fused upsampling + cross-entropy of a training step (150 classes, odd sizes,
    /// ignored pixels): every kernel gives the scalar fallback's loss and gradients.
    func testSegmenterStepAgreesAcrossKernels() throws {
        let (b, h, w, d, k, oh, ow) = (2, 3, 5, 8, 150, 23, 37)
        var head = try LinearSegmenter(dim: d, classes: k, seed: 3)
        head.convWeight = randomArray(k * d, std: 0.8, seed: 31)
        let x = randomArray(b * h * w * d, seed: 32)
        var random = SeededRandom(seed: 33)
        let labels = (0..<(b * oh * ow)).map { _ in random.uniform() < 0.2 ? 255 : UInt8(random.int(below: k)) }
        func step(_ kernel: SoftmaxKernel) throws -> SegmenterGradients {
            head.softmaxKernel = kernel
            return try head.lossAndGradients(features: x, batch: b, height: h, width: w, labels: labels, labelHeight: oh,
                                             labelWidth: ow, channelMask: [Float](repeating: 1, count: b * d),
                                             featureGradient: true)
        }
        let reference = try step(.scalar)
        for kernel in kernels {
            let g = try step(kernel)
            XCTAssertEqual(g.loss, reference.loss, accuracy: 1e-6 * reference.loss, "\(kernel) loss")
            for (name, value, expected) in [("conv.weight", g.convWeight, reference.convWeight), ("conv.bias", g.convBias, reference.convBias),
                                            ("bn.weight", g.bnWeight, reference.bnWeight),
                                            ("features", try XCTUnwrap(g.features), try XCTUnwrap(reference.features))] {
                XCTAssertLessThan(relativeError(value, expected), 1e-5, "\(kernel) \(name)")
            }
        }
    }

    /// The fused resize + cross-entropy against double precision on the resized logits (up and
    /// down), with extreme logits: a class at +1e4 and one at -1e4, spreads of hundreds (most
    /// exps underflow), and all classes equal. Loss within 1e-5 relative, d/d conv.bias (the
    /// summed softmax gradient: the resize's weights sum to 1 per pixel) within 1e-6.
    func testSegmenterStepMatchesDoublePrecisionWithExtremeLogits() throws {
        for (oh, ow) in [(10, 13), (2, 3)] { try checkAgainstDoublePrecision(labelHeight: oh, labelWidth: ow) }
    }

    private func checkAgainstDoublePrecision(labelHeight oh: Int, labelWidth ow: Int) throws {
        let (b, h, w, d, k) = (2, 3, 4, 4, 37)
        let x = randomArray(b * h * w * d, seed: 41)
        var random = SeededRandom(seed: 42)
        let labels = (0..<(b * oh * ow)).map { _ in random.uniform() < 0.1 ? 255 : UInt8(random.int(below: k)) }
        var extreme = randomArray(k, std: 1, seed: 43)
        (extreme[5], extreme[7]) = (1e4, -1e4)
        let cases: [(String, weight: [Float], bias: [Float])] = [
            ("+-1e4 classes", randomArray(k * d, std: 3, seed: 44), extreme),
            ("spread of hundreds", randomArray(k * d, std: 100, seed: 45), [Float](repeating: 0, count: k)),
            ("all equal", [Float](repeating: 0, count: k * d), [Float](repeating: 2, count: k)),
        ]
        for (name, weight, bias) in cases {
            var head = try LinearSegmenter(convWeight: weight, convBias: bias, batchNorm: try BatchNorm(channels: d))
            let normed = try head.batchNorm.forwardTraining(x, rows: b * h * w).output
            let logits = (0..<(b * h * w * k)).map { i -> Float in
                let (p, c) = (i / k, i % k)
                return bias[c] + (0..<d).reduce(Float(0)) { $0 + weight[c * d + $1] * normed[p * d + $1] }
            }
            let up = try BilinearUpsampler(inputHeight: h, inputWidth: w, outputHeight: oh, outputWidth: ow)
                .forward(logits, batch: b, channels: k)
            var (loss, dBias, valid) = (0.0, [Double](repeating: 0, count: k), 0)
            for (p, label) in labels.enumerated() where label != 255 {
                let z = up[(p * k)..<((p + 1) * k)].map(Double.init)
                let m = z.max() ?? 0
                let sum = z.reduce(0) { $0 + exp($1 - m) }
                loss += log(sum) + m - z[Int(label)]
                for c in 0..<k { dBias[c] += exp(z[c] - m) / sum - (c == Int(label) ? 1 : 0) }
                valid += 1
            }
            for kernel in kernels {
                head.softmaxKernel = kernel
                let g = try head.lossAndGradients(features: x, batch: b, height: h, width: w, labels: labels, labelHeight: oh,
                                                  labelWidth: ow, channelMask: [Float](repeating: 1, count: b * d))
                let expected = loss / Double(valid)
                XCTAssertEqual(Double(g.loss), expected, accuracy: 1e-5 * max(1, abs(expected)), "\(oh)x\(ow) \(name), \(kernel)")
                let error = (0..<k).reduce(0.0) { max($0, abs(Double(g.convBias[$1]) - dBias[$1] / Double(valid))) }
                XCTAssertLessThanOrEqual(error, 1e-6, "\(oh)x\(ow) \(name), \(kernel)")
                print(String(format: "fused step %dx%d, %@, %@ vs double: loss %.6g (error %.1e), d/d bias max error %.1e",
                             oh, ow, name, "\(kernel)", expected, Double(g.loss) - expected, error))
            }
        }
    }

    /// The PyTorch training-step fixture with each kernel chosen explicitly (the scalar fallback
    /// included; `LinearSegmenterTests` covers `.automatic`), without the feature gradient (the
    /// parameter-only backward pass).
    func testEveryKernelMatchesThePyTorchStep() throws {
        var head = try LinearSegmenter.load(from: Fixtures.path("segmenter_head.safetensors"))
        let expected = try Fixtures.file("segmenter_expected.safetensors")
        let size = try JSONDecoder().decode([Int].self, from: Data((expected.metadata["size"] ?? "").utf8))
        for kernel in kernels {
            head.softmaxKernel = kernel
            let g = try head.lossAndGradients(features: try expected.floats("features"), batch: size[0], height: size[1],
                                              width: size[2], labels: try expected.ints("labels").map { UInt8($0) },
                                              labelHeight: size[5], labelWidth: size[6], channelMask: try expected.floats("mask"))
            XCTAssertEqual(g.loss, try expected.floats("loss")[0], accuracy: 1e-5, "\(kernel)")
            for (name, value) in [("conv.weight", g.convWeight), ("conv.bias", g.convBias), ("bn.weight", g.bnWeight),
                                  ("bn.bias", g.bnBias)] {
                XCTAssertLessThan(relativeError(value, try expected.floats("grad." + name)), 1e-4, "\(kernel) \(name)")
            }
        }
    }
}
