import Backbone
import Datasets
import Foundation
import Heads
import Images
import Support

/// Retrieval vectors of image files: the tokens of the last block (or their GeM) at each scale, through the
/// feature cache (one entry per chunk of `chunkSize` images and per scale, so a run reuses what
/// an earlier one extracted and a killed run resumes), averaged over the scales and scaled to
/// unit length, as DINO's `multi_scale` does (sum, divide by the scale count, divide by the norm).
public struct RetrievalExtraction {
    public var cache: FeatureCache
    public var model: DINOv3Model
    public var backboneID: String
    public var settings: RetrievalSettings
    public var preprocessing: Preprocessing
    /// Images per forward pass at an input side.
    public var batchSize: (Int) -> Int
    public var maxPixels: Int
    public var reporter: Reporter
    /// Images per cache entry (bounds the memory one entry takes).
    public var chunkSize = 16_384

    public init(cache: FeatureCache, model: DINOv3Model, backboneID: String, settings: RetrievalSettings, preprocessing: Preprocessing,
                batchSize: @escaping (Int) -> Int, maxPixels: Int, reporter: Reporter) {
        (self.cache, self.model, self.backboneID, self.settings) = (cache, model, backboneID, settings)
        (self.preprocessing, self.batchSize, self.maxPixels, self.reporter) = (preprocessing, batchSize, maxPixels, reporter)
    }

    /// The width of a vector.
    public var width: Int { settings.tokens.width(dim: model.config.hiddenSize) }

    /// The input size at `scale`: the size times the scale, rounded to a multiple of the patch size.
    public static func scaledSize(_ size: Int, scale: Double, patch: Int) -> Int {
        max(patch, Int((Double(size) * scale / Double(patch)).rounded()) * patch)
    }

    /// One feature-cache entry that `vectors` reads: a chunk of the inputs at one scale.
    struct Entry {
        var name: String
        var dataset: ClassificationDataset
        var preprocessing: Preprocessing
    }

    /// The entries of the chunk starting at `start` of `total` inputs, one per scale.
    func entries(_ chunk: [String], start: Int, of total: Int, name: String) -> [Entry] {
        settings.scales.map { scale in
            var p = preprocessing
            p.size = Self.scaledSize(p.size, scale: scale, patch: model.config.patchSize)
            let dataset = ClassificationDataset(root: "", split: .val, samples: chunk.map { ClassificationSample(path: $0, label: 0) },
                                                classIDs: [name])
            return Entry(name: "retrieval-\(name)" + (total > chunkSize ? "-\(start / chunkSize)" : "") + "-\(p.size)px", dataset: dataset,
                         preprocessing: p)
        }
    }

    /// Unit vectors of `paths` in order, handed to `write` chunk by chunk ([rows, width]); returns
    /// the positions that have one and the images skipped (at any scale) with the reason.
    public func vectors(_ paths: [String], name: String, write: ([Float]) throws -> Void) throws -> (present: [Int], skipped: [SkippedInput]) {
        var present: [Int] = [], skipped: [SkippedInput] = []
        for start in stride(from: 0, to: paths.count, by: chunkSize) {
            let chunk = Array(paths[start..<min(paths.count, start + chunkSize)])
            var sums: [Int: [Float]] = [:]
            var chunkSkipped: [Int: SkippedInput] = [:]
            for entry in entries(chunk, start: start, of: paths.count, name: name) {
                let split = try cache.split(of: entry.dataset, model: model, backboneID: backboneID, preprocessing: entry.preprocessing,
                                            layers: model.lastBlocks(1), batchSize: batchSize(entry.preprocessing.size), maxPixels: maxPixels,
                                            name: entry.name, pooling: settings.tokens.pooling, reporter: reporter)
                let vectors = settings.tokens == .gem ? (values: split.features.meanPatch, width: model.config.hiddenSize)
                    : try split.features.vectors(settings.tokens == .cls ? .cls : .clsAvgpool, blocks: 1)
                let rowOf = Dictionary(split.paths.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                for skip in split.skipped { if let i = skip.index { chunkSkipped[i] = chunkSkipped[i] ?? skip } }
                for (i, path) in chunk.enumerated() {
                    guard let row = rowOf[path] else { continue }
                    let v = vectors.values[(row * vectors.width)..<((row + 1) * vectors.width)]
                    sums[i] = sums[i].map { zip($0, v).map { $0 + $1 } } ?? Array(v)
                }
            }
            var rows: [Float] = []
            for i in chunk.indices {
                guard let sum = sums[i], chunkSkipped[i] == nil else {
                    skipped.append(chunkSkipped[i].map { SkippedInput(index: start + i, path: $0.path, reason: $0.reason) }
                                   ?? SkippedInput(index: start + i, path: chunk[i], reason: "no features"))
                    continue
                }
                present.append(start + i)
                rows += sum.map { $0 / Float(settings.scales.count) }
            }
            try write(RowNormaliser.l2(rows, dim: width))
        }
        return (present, skipped)
    }
}

/// A file of Float rows [count, dim] (native byte order), written chunk by chunk and read a
/// block at a time: the database of a retrieval run, which is never held whole.
public final class VectorFile: VectorBlocks {
    public let path: String
    public let dim: Int
    public private(set) var count = 0
    private var output: AtomicFile.Output?
    private var reader: Int32 = -1

    /// Starts writing `path` (replaced when finished).
    public init(path: String, dim: Int) throws {
        (self.path, self.dim) = (path, dim)
        output = try AtomicFile.begin(path)
    }

    public func append(_ rows: [Float]) throws {
        guard let output, rows.count % dim == 0 else { throw TrainingError.badOption("vector file \(path): rows of width \(dim) expected") }
        try output.write(contentsOf: rows)
        count += rows.count / dim
    }

    /// Ends writing; the rows can be read from now on.
    public func finish() throws {
        try output?.commit()
        output = nil
        reader = PathCodec.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) } ?? -1
        guard reader >= 0 else { throw FileSystemError.io(path: path, operation: "open", reason: String(cString: strerror(errno))) }
    }

    /// Reads straight into `into` (no second copy of the block).
    public func read(rows: Range<Int>, into: UnsafeMutableBufferPointer<Float>) throws {
        guard reader >= 0, rows.upperBound <= count, into.count >= rows.count * dim else {
            throw TrainingError.badOption("vector file \(path): rows \(rows) not written")
        }
        let raw = UnsafeMutableRawBufferPointer(into)
        var done = 0
        let wanted = rows.count * dim * 4
        while done < wanted {
            let n = pread(reader, raw.baseAddress! + done, wanted - done, off_t(rows.lowerBound * dim * 4 + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileSystemError.io(path: path, operation: "read", reason: n < 0 ? String(cString: strerror(errno)) : "it ends early") }
            done += n
        }
    }

    deinit {
        output?.discard()
        if reader >= 0 { close(reader) }
    }
}
