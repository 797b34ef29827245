@testable import Backbone
import Foundation
import TestSupport
import XCTest

/// The extraction batch chosen by memory: classification sizes keep the full batch, dense
/// sizes shrink it, never below one image; the estimate covers the measured peaks.
final class ForwardMemoryTests: XCTestCase {
    /// ViT-S/16: 6 heads, D 384, MLP 1536, 4 registers; 21,596,544 parameters.
    static let vitS: DINOv3Config = { var c = DINOv3Config(); c.numRegisterTokens = 4; return c }()

    func testBatchFollowsTheBudget() throws {
        let model = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel))
        let small = ForwardMemory.bytesPerImage(model, height: 64, width: 64)
        let large = ForwardMemory.bytesPerImage(model, height: 256, width: 256)
        XCTAssertGreaterThan(large, small, "16 times the patches")
        XCTAssertLessThan(large, 17 * small, "the fused kernel keeps no per-image attention scores")
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 64, width: 64), ForwardMemory.defaultMaxBatch)
        let five = ForwardMemory.activationBytes(model, batch: 5, height: 256, width: 256)
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 256, width: 256, budget: five), 5)
        XCTAssertEqual(ForwardMemory.batchSize(model, height: 4096, width: 4096, budget: 1), 1)
        XCTAssertGreaterThan(ForwardMemory.bytesPerImage(model, height: 64, width: 64, layers: 4), small)
    }

    func testViTS16Figures() {
        let config = Self.vitS
        let at224 = ForwardMemory.atenViTBytes(config, height: 224, width: 224, layers: 1)
        let at448 = ForwardMemory.atenViTBytes(config, height: 448, width: 448, layers: 1)
        // Attention in ATen ops: measured peak RSS grows by 61-70 MB per image at 448.
        XCTAssert((60_000_000...80_000_000).contains(at448), "\(at448)")
        XCTAssertGreaterThanOrEqual(ForwardMemory.defaultBudget / at224, 32, "224 keeps batch 32")
        XCTAssertEqual(ForwardMemory.defaultBudget / at448, 7)
        // The fused CPU kernel: extract grew by 48 MB per image between batch 8 and 16 at 448.
        let fused448 = ForwardMemory.fusedViTBytes(config, batch: 1, height: 448, width: 448, layers: 1, threads: 1)
        XCTAssert((35_000_000...50_000_000).contains(fused448), "\(fused448)")
        XCTAssertEqual(ForwardMemory.defaultBudget / fused448, 13)
        XCTAssertGreaterThanOrEqual(ForwardMemory.defaultBudget / ForwardMemory.fusedViTBytes(config, batch: 1, height: 224, width: 224, layers: 1, threads: 1), 32)
    }

    /// Never less memory for more images, more pixels, more threads or more kept blocks.
    func testEstimateIsMonotone() {
        for config in [Self.vitS, Self.vitB] {
            var previousSize = 0
            for size in stride(from: 16, through: 4096, by: 16) {
                let bytes = ForwardMemory.fusedViTBytes(config, batch: 1, height: size, width: size, layers: 1, threads: 2)
                XCTAssertGreaterThanOrEqual(bytes, previousSize, "size \(size)")
                previousSize = bytes
            }
            for size in [224, 512, 1024, 2048, 4096] {
                var previous = 0
                for batch in 1...40 {
                    let bytes = ForwardMemory.fusedViTBytes(config, batch: batch, height: size, width: size, layers: 1, threads: 2)
                    XCTAssertGreaterThan(bytes, previous, "size \(size), batch \(batch)")
                    previous = bytes
                }
                let one = ForwardMemory.fusedViTBytes(config, batch: 1, height: size, width: size, layers: 1, threads: 2)
                XCTAssertLessThan(one, ForwardMemory.fusedViTBytes(config, batch: 1, height: size, width: size, layers: 1, threads: 16))
                XCTAssertLessThan(one, ForwardMemory.fusedViTBytes(config, batch: 1, height: size, width: size, layers: 4, threads: 2))
            }
        }
    }

    /// docs/performance.md, "Memory": peak RSS of `extract` (MB, 2 threads) against the estimate
    /// of the whole peak, at or above each, within 1.5x from 1024 px up.
    func testEstimateCoversTheMeasuredPeaks() {
        let measured: [(vitB: Bool, size: Int, batch: Int, mb: Int)] = [
            (false, 224, 1, 360), (false, 224, 4, 398), (false, 224, 8, 425), (false, 512, 1, 410), (false, 512, 4, 546),
            (false, 512, 8, 715), (false, 1024, 1, 497), (false, 1024, 4, 1092), (false, 1024, 8, 1712), (false, 2048, 1, 1070),
            (false, 2048, 4, 2869), (false, 4096, 1, 1810), (true, 224, 1, 874), (true, 224, 4, 921), (true, 224, 8, 1028),
            (true, 512, 1, 952), (true, 512, 4, 1231), (true, 1024, 1, 1170),
        ]
        for m in measured {
            let (config, parameters) = m.vitB ? (Self.vitB, 85_660_416) : (Self.vitS, 21_596_544)
            let estimate = ForwardMemory.fixedBytes(parameterCount: parameters)
                + ForwardMemory.fusedViTBytes(config, batch: m.batch, height: m.size, width: m.size, layers: 1, threads: 2)
            let ratio = Double(estimate) / Double(m.mb * 1_000_000)
            XCTAssertGreaterThanOrEqual(ratio, 1, "\(m)")
            XCTAssertLessThanOrEqual(ratio, m.size >= 1024 ? 1.5 : 1.8, "\(m)")
        }
    }

    static let vitB: DINOv3Config = {
        var c = vitS
        (c.hiddenSize, c.numAttentionHeads, c.intermediateSize) = (768, 12, 3072)
        return c
    }()

    /// A tiny budget refuses an image before any work, naming what it needs in GB.
    func testRefusalNamesTheFigureInGB() throws {
        let model = try DINOv3Model(folder: URL(fileURLWithPath: CLI.tinyModel))
        XCTAssertNoThrow(try ForwardMemory.checkOneImageFits(model, height: 64, width: 64, limit: 16 << 20, limitName: "--memory-budget"))
        XCTAssertNoThrow(try ForwardMemory.checkOneImageFits(model, height: 4096, width: 4096))
        let need = ForwardMemory.bytesPerImage(model, height: 4096, width: 4096)
        XCTAssertGreaterThan(need, 16 << 20)
        XCTAssertThrowsError(try ForwardMemory.checkOneImageFits(model, height: 4096, width: 2048, limit: 16 << 20, limitName: "--memory-budget")) {
            let message = "\($0)"
            let figure = ForwardMemory.gigabytes(ForwardMemory.bytesPerImage(model, height: 4096, width: 2048))
            XCTAssert(message.contains("one 2048x4096 image needs about \(figure) for the backbone's activations"), message)
            XCTAssert(message.contains("more than --memory-budget (16 MiB, 0.02 GB)"), message)
        }
        XCTAssertThrowsError(try ForwardMemory.checkOneImageFits(model, height: 4096, width: 4096, limit: 0, limitName: "--memory-budget"))
        XCTAssertEqual(ForwardMemory.gigabytes(1_810_000_000), "1.81 GB")
        XCTAssertEqual(ForwardMemory.gigabytes(12_345_000_000), "12.3 GB")
    }
}
