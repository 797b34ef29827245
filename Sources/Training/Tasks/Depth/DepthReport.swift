import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// What a linear depth run shows in its `report.html`: the metrics first, then the run, the
/// training and sample predictions with one colour scale in metres.
extension DepthTraining {
    /// The page: val metrics, the run's settings, the loss curve, then image | ground truth | prediction per sample.
    public func page(record: RunRecord, result: DepthResult?, samples: [DensePrediction<DepthMap>], val: DepthDataset?, views: Int,
                     losses: Foundation.Data, maxPixels: Int) -> HTMLReport {
        var page = HTMLReport(title: "dinoprobe train-depth: \(record.data?.root ?? "")")
        if let result {
            page.heading("Val metrics (\(result.images) images, each metric averaged over images)")
            page.table(header: ["metric", "value", "better"], rows: zip(DepthScores.names, DepthScores.lowerIsBetter).map { name, lower in
                [name, result.metrics[name].map { $0.isFinite ? String(format: "%.4f", $0) : "-" } ?? "-", lower ? "lower" : "higher"]
            })
        } else {
            page.paragraph("No val split: the head was trained but not evaluated.")
        }
        RunReports.settingsSection(record, into: &page)
        page.heading("Training")
        let h = settings.head
        page.paragraph("\(settings.iterations) steps of batch \(settings.batchSize) over \(views) cached views: SigLoss, AdamW lr \(settings.learningRate), betas \(settings.betas), weight decay \(settings.weightDecay), gradient norm clipped to \(settings.gradientClip), one-cycle with \(settings.schedule.warmupSteps) warm-up steps; \(h.bins) \(h.binsStrategy.rawValue) bins in [\(h.minDepth), \(h.maxDepth)] m, \(h.normStrategy.rawValue) normalisation.")
        page.image(png: losses, caption: "Loss per step")
        let items = gallery(samples, of: val, maxPixels: maxPixels)
        guard !items.isEmpty else { return page }
        page.heading("Sample predictions on val (image | ground truth | prediction; black: no depth)")
        page.gallery(items)
        return page
    }

    /// The samples drawn with one plasma scale from 0 to the deepest ground truth shown, and its colour bar.
    func gallery(_ samples: [DensePrediction<DepthMap>], of dataset: DepthDataset?, maxPixels: Int) -> [HTMLReport.GalleryItem] {
        guard let dataset else { return [] }
        let truths = samples.map { try? dataset.loadDepth(dataset.samples[$0.index], maxPixels: maxPixels) }
        let deepest = truths.compactMap { $0?.values.max() }.max() ?? 0
        guard deepest > 0 else { return [] }
        let range: ClosedRange<Float> = 0...(deepest * 10).rounded(.up) / 10
        var items: [HTMLReport.GalleryItem] = []
        for (sample, truth) in zip(samples, truths) {
            let path = dataset.samples[sample.index].image, name = dataset.relativeName(path)
            guard let truth, let image = try? ImageDecoder.decode(path: path, maxPixels: maxPixels),
                  let original = try? Thumbnail.png(image, maxSide: 240),
                  let truthPicture = try? ColorMap.plasma.image(truth.values, width: truth.width, height: truth.height, range: range,
                                                                isEmpty: { !($0 > 0) }),
                  let predicted = try? ColorMap.plasma.image(sample.value.values, width: truth.width, height: truth.height, range: range),
                  let truthPNG = try? Thumbnail.png(truthPicture, maxSide: 240), let predictedPNG = try? Thumbnail.png(predicted, maxSide: 240)
            else { continue }
            items += [.init(png: original, caption: name), .init(png: truthPNG, caption: "\(name): ground truth"),
                      .init(png: predictedPNG, caption: "\(name): prediction")]
        }
        if let bar = try? ColorMap.plasma.bar(width: 24, height: 240), let png = try? Thumbnail.png(bar, maxSide: 240), !items.isEmpty {
            items.append(.init(png: png, caption: String(format: "colour bar: 0 m (bottom) to %.1f m (top)", range.upperBound)))
        }
        return items
    }
}
