import CommandLineKit
import Backbone
import Foundation
import Images

extension BenchBackbone {
    /// End-to-end extraction (decode + preprocess + forward, batch 32) of generated JPEGs at 224 px,
    /// paired batch by batch with backbone-only passes over as many images; and decoding alone.
    func timeExtraction(_ backbone: DINOv3Model, work: URL, report: inout [String: Any]) throws {
        let images = imageCount
        let jpegs = try generatedJPEGs(in: work.appendingPathComponent("jpegs"), count: images)
        let extractor = try FeatureExtractor(model: backbone, preprocessing: Preprocessing(), batchSize: 32)
        _ = try extractor.run(paths: Array(jpegs.prefix(32)), onBatch: { _ in })
        // Paired: each end-to-end run next to a backbone-only pass over the same number of images
        // at batch 32, interleaved batch by batch (extract batch 1, backbone, backbone, extract
        // batch 2, ...), the order flipping from batch to batch and from pair to pair, so that both
        // see the same seconds of a shared machine and a trend in its load favours neither; the
        // median ratio of the pairs is reported. Nine pairs, or one per repeat when --repeats asks
        // for more (each takes about 10 s): the pairs scatter by a few percent on a shared machine.
        let batches = stride(from: 0, to: jpegs.count, by: 32).map { Array(jpegs[$0..<min($0 + 32, jpegs.count)]) }
        // The backbone-only side's inputs: whole batches, and the last one's size when it is short.
        let fullPixels = Self.pixels(batch: 32), restPixels = Self.pixels(batch: jpegs.count % 32)
        var times: [Double] = [], ratios: [Double] = [], backboneRates: [Double] = []
        for pair in 0..<max(repeats, 9) {
            var extractSeconds = 0.0, backboneSeconds = 0.0
            for (index, batch) in batches.enumerated() {
                let extractFirst = (pair + index) % 2 == 0
                for step in 0..<2 {
                    let start = Date()
                    if (step == 0) == extractFirst {
                        try extractor.run(paths: batch, onBatch: { _ in })
                        extractSeconds += Date().timeIntervalSince(start)
                    } else {
                        _ = try backbone.forward(pixels: batch.count == 32 ? fullPixels : restPixels, batch: batch.count, height: 224, width: 224)
                        backboneSeconds += Date().timeIntervalSince(start)
                    }
                }
            }
            times.append(extractSeconds)
            backboneRates.append(Double(jpegs.count) / backboneSeconds)
            ratios.append(backboneSeconds / extractSeconds)
        }
        let e2e = Double(jpegs.count) / median(times)
        let backbone32 = median(backboneRates)
        report["extract_images_per_s"] = e2e
        report["extract_vs_backbone_32"] = median(ratios)
        say(String(format: "end-to-end extract (decode + preprocess + forward, batch 32, %d JPEGs 500x375): %.2f images/s = %.2fx backbone-only (median of %d pairs, each against a backbone-only pass over as many images, interleaved batch by batch: %@)",
                   jpegs.count, e2e, median(ratios), ratios.count, ratios.map { String(format: "%.2fx", $0) }.joined(separator: ", ")))
        // Decoding and preprocessing alone, on one thread with nothing else running: the CPU time
        // the overlap has to find beside the forward pass, which keeps every thread busy.
        let decodeStart = Date()
        for path in jpegs { _ = try extractor.prepare(path: path) }
        let decodeSeconds = Date().timeIntervalSince(decodeStart) / Double(jpegs.count)
        let ceiling = 1 / (1 + decodeSeconds * backbone32 / Double(bench.threads))
        report["decode_ms_per_image"] = decodeSeconds * 1000
        report["extract_ceiling_vs_backbone_32"] = ceiling
        say(String(format: "  decode + preprocess alone: %.2f ms/image on one thread, %.1f%% of the %d threads' time per image at the batch-32 rate: with no idle time at all, end to end could reach %.2fx",
                   decodeSeconds * 1000, 100 * (1 / ceiling - 1), bench.threads, ceiling))
    }
}
