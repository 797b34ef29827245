import Foundation
import Images
import Support

/// One batch of images run through the backbone.
public struct ExtractedBatch: Sendable {
    /// Positions of these images in the input list.
    public let indices: [Int]
    public let output: BackboneOutput

    public init(indices: [Int], output: BackboneOutput) {
        self.indices = indices
        self.output = output
    }
}

/// Turns image files into backbone outputs in batches. On the CPU, decoding and preprocessing
/// take turns with the forward pass, each on every core: a batch's images are decoded in
/// parallel, then run. (Both use all the cores, so taking turns costs nothing against running
/// them side by side, and it keeps a decoding thread from holding up one of the forward pass's
/// threads while the other waits for it.) On other devices, whose forward pass leaves the CPU
/// free, they run on a background thread a few batches ahead of it. Unreadable images are
/// skipped and reported; the run carries on.
public final class FeatureExtractor: @unchecked Sendable {
    public let model: DINOv3Model
    public let preprocessing: Preprocessing
    public let batchSize: Int
    /// The blocks whose normed outputs each batch returns (0-based, ascending).
    public let layers: [Int]
    /// A ConvNeXt's stages whose raw maps each batch returns (ascending; empty: none).
    public let stages: [Int]
    public let maxPixels: Int
    /// Also run each image mirrored left-right (an augmentation for dense training).
    public let flipped: Bool

    /// An extractor returning the last `lastLayers` blocks (and the maps of a ConvNeXt's `stages`).
    public convenience init(model: DINOv3Model, preprocessing: Preprocessing, batchSize: Int = 32, lastLayers: Int = 1,
                            stages: [Int] = [], maxPixels: Int = ImageDecoder.defaultMaxPixels, flipped: Bool = false) throws {
        guard (1...model.config.numHiddenLayers).contains(lastLayers) else {
            throw BackboneError.badInput("the last \(lastLayers) blocks were asked for, but the model has \(model.config.numHiddenLayers)")
        }
        try self.init(model: model, preprocessing: preprocessing, batchSize: batchSize, layers: model.lastBlocks(lastLayers),
                      stages: stages, maxPixels: maxPixels, flipped: flipped)
    }

    /// An extractor returning the blocks `layers` (0-based, ascending) and the maps of a
    /// ConvNeXt's `stages` (see `DINOv3Model.checkStages`).
    public init(model: DINOv3Model, preprocessing: Preprocessing, batchSize: Int = 32, layers: [Int], stages: [Int] = [],
                maxPixels: Int = ImageDecoder.defaultMaxPixels, flipped: Bool = false) throws {
        guard batchSize > 0 else { throw BackboneError.badInput("the batch size must be at least 1") }
        try DINOv3Model.checkLayers(layers, depth: model.config.numHiddenLayers)
        try model.checkStages(stages)
        var p = preprocessing
        p.patchSize = model.config.patchSize
        try p.validate()
        (self.model, self.preprocessing, self.batchSize, self.layers, self.stages) = (model, p, batchSize, layers, stages)
        (self.maxPixels, self.flipped) = (maxPixels, flipped)
    }

    /// A decoded, preprocessed image waiting for the forward pass.
    private struct Prepared {
        let index: Int
        let pixels: [Float]
        let height: Int
        let width: Int
    }

    /// A batch's images, decoded concurrently: one slot each, read back in order.
    private final class DecodedSlots: @unchecked Sendable {
        private var slots: [Result<Prepared, SkippedInput>?]
        private let lock = NSLock()

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ item: Result<Prepared, SkippedInput>) { lock.withLock { slots[index] = item } }

        /// The slots in order (every one is filled once concurrentPerform returns).
        var filled: [Result<Prepared, SkippedInput>] { lock.withLock { slots.compactMap { $0 } } }
    }

    /// Image `index` at `path`, decoded and preprocessed, or why it cannot be used.
    private func prepared(_ index: Int, _ path: String) -> Result<Prepared, SkippedInput> {
        do {
            let p = try prepare(path: path)
            return .success(Prepared(index: index, pixels: p.pixels, height: p.height, width: p.width))
        } catch { return .failure(SkippedInput(index: index, path: path, reason: "\(error)")) }
    }

    /// Decodes and preprocesses one image.
    public func prepare(path: String) throws -> (pixels: [Float], height: Int, width: Int) {
        try preprocessing.prepare(file: ImageDecoder.open(path), maxPixels: maxPixels, mirrored: flipped)
    }

    /// Runs every path; calls `onBatch` in input order for each batch of same-size images (from
    /// positions kB..<(k+1)B of `paths`), `onSkip` for each unusable file, and `onProgress` with
    /// the count of inputs handled.
    public func run(paths: [String], onBatch: (ExtractedBatch) throws -> Void,
                    onSkip: (SkippedInput) -> Void = { _ in }, onProgress: (Int) -> Void = { _ in }) throws {
        var pending: [Prepared] = []
        var handled = 0
        /// Runs the pending images; if the batch fails (an allocation, an odd size), each image
        /// is retried alone and only those that fail again are skipped.
        func flush() throws {
            guard !pending.isEmpty else { return }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            if let output = try? forward(batch) {
                try onBatch(ExtractedBatch(indices: batch.map(\.index), output: output))
            } else {
                for item in batch {
                    let output: BackboneOutput
                    do { output = try forward([item]) } catch {
                        onSkip(SkippedInput(index: item.index, path: paths[item.index], reason: "the backbone failed on it: \(error)"))
                        continue
                    }
                    try onBatch(ExtractedBatch(indices: [item.index], output: output))
                }
            }
            handled += batch.count
            onProgress(handled)
        }
        /// Takes the next image in input order.
        func consume(_ item: Result<Prepared, SkippedInput>) throws {
            switch item {
            case let .failure(skip):
                onSkip(skip)
                handled += 1
                onProgress(handled)
            case let .success(prepared):
                // Batches are fixed groups of input positions (0..<B, B..<2B, ...), so which images share
                // a forward pass never depends on which others were skipped: the features of a list
                // split at batch boundaries (shards, checkpointed chunks) equal those of the whole.
                if let first = pending.first, first.height != prepared.height || first.width != prepared.width
                    || first.index / batchSize != prepared.index / batchSize {
                    try flush()
                }
                pending.append(prepared)
                if prepared.index % batchSize == batchSize - 1 { try flush() }
            }
        }
        if model.device == .cpu {
            for start in stride(from: 0, to: paths.count, by: batchSize) {
                for item in decodedConcurrently(start..<min(start + batchSize, paths.count), paths) { try consume(item) }
            }
        } else {
            try decodedBesideForwardPasses(paths, consume)
        }
        try flush()
    }

    /// Hands `consume` every image of `paths` in order, decoded on a thread of its own beside the
    /// forward passes (a GPU's), the first batch on every core.
    private func decodedBesideForwardPasses(_ paths: [String], _ consume: (Result<Prepared, SkippedInput>) throws -> Void) throws {
        let queue = BoundedQueue<Result<Prepared, SkippedInput>>(capacity: batchSize * 3)
        let producer = Thread { [self] in
            // The first batch is decoded on every core: no forward pass can run until it is
            // ready, so the cores are otherwise idle. The rest is decoded on this thread alone,
            // beside the forward pass.
            let head = min(batchSize, paths.count)
            for item in decodedConcurrently(0..<head, paths) { queue.put(item) }
            Self.yieldToForwardPass()
            for index in head..<paths.count {
                if queue.isCancelled { break }
                queue.put(prepared(index, paths[index]))
            }
            queue.close()
        }
        producer.stackSize = 1 << 22
        producer.start()
        defer { queue.cancel() }
        while let item = queue.take() { try consume(item) }
    }

    /// The images at `positions` of `paths`, decoded and preprocessed on every core; in order.
    private func decodedConcurrently(_ positions: Range<Int>, _ paths: [String]) -> [Result<Prepared, SkippedInput>] {
        let slots = DecodedSlots(count: positions.count)
        DispatchQueue.concurrentPerform(iterations: positions.count) { offset in
            let index = positions.lowerBound + offset
            slots.set(offset, prepared(index, paths[index]))
        }
        return slots.filled
    }

    /// Lowers the calling thread's scheduling priority (nice 10, this thread only): the decoding
    /// thread of a GPU run, so that the CPU work that run still does (launching kernels, copying
    /// outputs) comes first and decoding takes the time it leaves.
    private static func yieldToForwardPass() {
        #if os(Linux)
        // On Linux the nice value is per thread: who = 0 is the calling thread alone.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    private func forward(_ items: [Prepared]) throws -> BackboneOutput {
        guard let first = items.first else { throw BackboneError.badInput("empty batch") }
        // One image's pixels go as they are (no copy: at 4096 px one is 200 MB).
        var pixels: [Float] = items.count == 1 ? first.pixels : []
        if items.count > 1 {
            pixels.reserveCapacity(items.count * first.pixels.count)
            for p in items { pixels += p.pixels }
        }
        return try model.forward(pixels: pixels, batch: items.count, height: first.height, width: first.width, layers: layers, stages: stages)
    }
}

/// A blocking FIFO of bounded size between one producer and one consumer.
final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private(set) var isCancelled = false
    private let condition = NSCondition()

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func put(_ item: Element) {
        condition.lock()
        while items.count - head >= capacity && !isCancelled { condition.wait() }
        if !isCancelled { items.append(item) }
        condition.broadcast()
        condition.unlock()
    }

    /// The next item, or nil once the producer has closed the queue and it is empty.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        condition.broadcast()
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        isCancelled = true
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
