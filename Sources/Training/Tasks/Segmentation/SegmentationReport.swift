import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// What a linear segmentation run shows in its `report.html`.
public struct SegmentationReport {
    /// A predicted mask of one val sample, kept for the picture gallery.
    public struct Sample: Sendable {
        public var index: Int
        public var mask: [UInt8]
        public var width: Int, height: Int

        public init(index: Int, mask: [UInt8], width: Int, height: Int) {
            (self.index, self.mask, self.width, self.height) = (index, mask, width, height)
        }
    }

    public var record: RunRecord
    public var settings: SegmentationSettings
    public var result: SegmentationResult?
    public var samples: [Sample]
    public var dataset: SegmentationDataset?
    public var views: Int

    public init(record: RunRecord, settings: SegmentationSettings, result: SegmentationResult?, samples: [Sample],
                dataset: SegmentationDataset?, views: Int) {
        (self.record, self.settings, self.result, self.samples, self.dataset, self.views) = (record, settings, result, samples, dataset, views)
    }

    /// The page, top down: the val mIoU and the run's duration, the metrics, the loss curve,
    /// for each sample image | ground truth | prediction, and the run's provenance (collapsed).
    public func page(losses: Data, maxPixels: Int = ImageDecoder.defaultMaxPixels) -> HTMLReport {
        var page = HTMLReport(title: "dinoprobe train-seg: \(record.data?.root ?? "")")
        RunReports.headlineSection(result.map { "val mIoU \(MetricsReport.percent($0.mIoU))" } ?? "trained, not evaluated (no val split)",
                                   record: record, into: &page)
        if let result {
            page.heading("Val metrics")
            RunReports.segmentationMetrics(result, into: &page)
        }
        page.heading("Training")
        page.paragraph("\(settings.iterations) steps of batch \(settings.batchSize) over \(views) cached views, AdamW lr \(settings.learningRate), weight decay \(settings.weightDecay), \(settings.warmupSteps) warm-up steps then cosine.")
        page.image(png: losses, caption: "Loss per step")
        if result != nil, let dataset { samplesSection(dataset, maxPixels: maxPixels, into: &page) }
        RunReports.provenanceSection(record, into: &page)
        return page
    }

    /// For each sample: image | ground truth | prediction.
    private func samplesSection(_ dataset: SegmentationDataset, maxPixels: Int, into page: inout HTMLReport) {
        page.heading("Sample predictions on val (image | ground truth | prediction)")
        var items: [HTMLReport.GalleryItem] = []
        for sample in samples {
            let pair = dataset.samples[sample.index]
            let name = ByteText.name(of: pair.image)
            guard let image = try? ImageDecoder.decode(path: pair.image, maxPixels: maxPixels), image.width == sample.width,
                  image.height == sample.height, let truth = try? dataset.loadMask(for: pair),
                  let original = try? Thumbnail.png(image, maxSide: 200),
                  let truthPicture = try? SegmentationRendering.overlay(image: image, mask: truth.labels, palette: dataset.palette,
                                                                        classNames: dataset.classNames),
                  let predicted = try? SegmentationRendering.overlay(image: image, mask: sample.mask, palette: dataset.palette,
                                                                     classNames: dataset.classNames),
                  let truthPNG = try? Thumbnail.png(truthPicture, maxSide: 320), let predictedPNG = try? Thumbnail.png(predicted, maxSide: 320)
            else { continue }
            items += [HTMLReport.GalleryItem(png: original, caption: name),
                      HTMLReport.GalleryItem(png: truthPNG, caption: "\(name): ground truth"),
                      HTMLReport.GalleryItem(png: predictedPNG, caption: "\(name): prediction")]
        }
        if items.isEmpty { page.paragraph("No val image could be drawn.") } else { page.gallery(items) }
    }
}

extension SegmentationReport {
    /// Writes a finished run's results into `folder`: head.safetensors (in `naming`),
    /// train_log.csv and loss_curves.png; with an evaluation (`metrics`, `perImage`),
    /// metrics.json, per_image.csv and confusion.csv; then report.html. Returns the file names.
    public func write(head: LinearSegmenter, naming: LinearSegmenter.TensorNaming, log: TrainingLog, metrics: SegmentationMetrics?,
                      perImage: [SegmentationImageScore], to folder: String, maxPixels: Int) throws -> [String] {
        var outputs = ["head.safetensors", "train_log.csv", "loss_curves.png"]
        try head.save(to: folder + "/head.safetensors", naming: naming)
        try AtomicFile.write(Data(log.csv().utf8), to: folder + "/train_log.csv")
        let losses = try RunReports.lossCurves(log, title: "Training loss (\(settings.iterations) steps of batch \(settings.batchSize))")
        try losses.write(to: folder + "/loss_curves.png")
        if let metrics, let result {
            try result.writeJSON(to: folder + "/metrics.json")
            try AtomicFile.write(Data(SegmentationImageScore.csv(perImage).utf8), to: folder + "/per_image.csv")
            try AtomicFile.write(Data(metrics.confusionCSV().utf8), to: folder + "/confusion.csv")
            outputs += ["metrics.json", "per_image.csv", "confusion.csv"]
        }
        try page(losses: losses.pngData(), maxPixels: maxPixels).write(to: folder + "/report.html")
        return outputs + ["report.html"]
    }
}
