import Datasets
import Evaluation
import Foundation
import Heads
import Images
import Plots
import Support

/// What a linear segmentation run shows in its `report.html`.
extension SegmentationTraining {
    /// The page, top down: the val mIoU and the run's duration, the metrics, the loss curve,
    /// for each sample image | ground truth | prediction, and the run's provenance (collapsed).
    public func page(record: RunRecord, result: SegmentationResult?, samples: [DensePrediction<LabelMask>], val: SegmentationDataset?,
                     views: Int, losses: Foundation.Data, maxPixels: Int) -> HTMLReport {
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
        if result != nil, let val { samplesSection(samples, of: val, maxPixels: maxPixels, into: &page) }
        RunReports.provenanceSection(record, into: &page)
        return page
    }

    /// For each sample: image | ground truth | prediction.
    private func samplesSection(_ samples: [DensePrediction<LabelMask>], of dataset: SegmentationDataset, maxPixels: Int, into page: inout HTMLReport) {
        page.heading("Sample predictions on val (image | ground truth | prediction)")
        var items: [HTMLReport.GalleryItem] = []
        for sample in samples {
            let pair = dataset.samples[sample.index]
            let name = ByteText.name(of: pair.image)
            guard let image = try? ImageDecoder.decode(path: pair.image, maxPixels: maxPixels), image.width == sample.value.width,
                  image.height == sample.value.height, let truth = try? dataset.loadMask(for: pair),
                  let original = try? Thumbnail.png(image, maxSide: 200),
                  let truthPicture = try? SegmentationRendering.overlay(image: image, mask: truth.labels, palette: dataset.palette,
                                                                        classNames: dataset.classNames),
                  let predicted = try? SegmentationRendering.overlay(image: image, mask: sample.value.labels, palette: dataset.palette,
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
