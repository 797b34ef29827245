import Foundation

/// How much memory a forward pass needs, and so how many images fit a budget. Calibrated on the
/// peak RSS of `dinoprobe extract` (scripts/measure-memory; the table is in docs/performance.md,
/// "Memory"): a fixed part (libraries, the weights as loaded and as packed for the GEMMs) plus
/// activations that grow with the images' tokens, a little per thread for the attention kernel's
/// tiles. The estimate is at or above every measured peak, within 1.5x of it from 1024 px up.
public enum ForwardMemory {
    /// Images per forward pass when nothing else is said: as many as `defaultBudget` allows,
    /// at most this many.
    public static let defaultMaxBatch = 32
    /// The default activation budget, 512 MiB (ViT-S/16 on the CPU in float32: batch 32 at 224,
    /// 13 at 448, 10 at 512; with attention in ATen ops: 32, 7 and 5).
    public static let defaultBudget = 512 << 20
    /// Libraries, allocator and runtime before any weights: 190 MB measured with a two-block
    /// ViT-S/16 at 224 px (220 MB) less its weights twice; 256 MiB kept.
    static let runtimeBytes = 256 << 20
    /// glibc serves allocations from this size up with their own mappings, returned when freed
    /// (ct_keep_freed_memory); smaller ones stay in the heap for reuse once freed.
    static let mmapThreshold = 64 << 20

    /// Bytes that do not depend on the input: the runtime and the weights, twice (as loaded, and
    /// packed into the GEMM's panels).
    public static func fixedBytes(_ model: DINOv3Model) -> Int { fixedBytes(parameterCount: model.parameterCount) }

    static func fixedBytes(parameterCount: Int) -> Int { runtimeBytes + 2 * 4 * parameterCount }

    /// Bytes of transient tensors one image needs in `model`'s forward pass at `height` x `width`,
    /// keeping `layers` blocks' outputs (and a ConvNeXt's `stages` maps).
    public static func bytesPerImage(_ model: DINOv3Model, height: Int, width: Int, layers: Int = 1, stages: [Int] = []) -> Int {
        activationBytes(model, batch: 1, height: height, width: width, layers: layers, stages: stages)
    }

    /// Bytes of transient tensors `batch` images need together (never less for more images).
    public static func activationBytes(_ model: DINOv3Model, batch: Int, height: Int, width: Int, layers: Int = 1, stages: [Int] = []) -> Int {
        if let convNext = model.convNextConfig {
            // Each kept map twice: the tensor and its float32 copy.
            let kept = stages.compactMap { try? convNext.stageShape($0, height: height, width: width) }.reduce(0) { $0 + $1.reduce(1, *) }
            return batch * (convNextBytes(convNext, height: height, width: width) + 8 * kept)
        }
        if !model.usesFusedAttention { return batch * atenViTBytes(model.config, height: height, width: width, layers: layers) }
        return fusedViTBytes(model.config, batch: batch, height: height, width: width, layers: layers,
                             threads: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// ViT with attention in ATen ops (other devices and precisions), per image: the scores, their
    /// softmax and its workspace (3 x heads x T^2), about a dozen T x D buffers (residual, norm,
    /// q/k/v and their rotated copies, attention output, projection), the MLP's hidden activations
    /// (2 x T x F, 3 x T x F gated) and the kept outputs. Measured at 448 px (ViT-S/16): 61-70 MB
    /// per image (estimate 71 MB).
    static func atenViTBytes(_ config: DINOv3Config, height: Int, width: Int, layers: Int) -> Int {
        let tokens = tokenCount(config, height: height, width: width)
        let (heads, dim, mlp) = (config.numAttentionHeads, config.hiddenSize, config.intermediateSize)
        let floats = 3 * heads * tokens * tokens + 12 * tokens * dim + (config.useGatedMLP ? 3 : 2) * tokens * mlp + (layers + 1) * tokens * dim
        return 4 * floats
    }

    /// ViT on the fused CPU attention kernel, which keeps no scores per image. Per token, live at
    /// the busiest point of a block: 8 x D + F floats (residual, norm, q/k/v, packed keys and
    /// values, attention output; the MLP's hidden activations), three copies of the pixels
    /// (decoded, resized, the batch tensor) and the kept outputs; each thread holds its tiles (96 x
    /// 528 scores: 512 keys and a cache line of padding; twice). While one image's T x D tensor is below glibc's mmap threshold, freed
    /// blocks stay in the heap: the block's share counts twice, and the pipeline's buffers about
    /// 6 x D (measured per image, 28-30 x T x D on ViT-S/16 and ViT-B/16 from 512 to 2048 px, the
    /// pipeline's per-image buffers keeping batch 4 at 2048 px there too); above it they are
    /// unmapped when freed and only the live ones count (14 x T x D measured at 4096 px). The
    /// heap's share is capped at its value at the threshold, so the figure never falls as the
    /// images grow, and grows with each image added.
    static func fusedViTBytes(_ config: DINOv3Config, batch: Int, height: Int, width: Int, layers: Int, threads: Int) -> Int {
        let perImage = tokenCount(config, height: height, width: width), tokens = batch * perImage
        let p = max(config.patchSize, 1)
        let d = config.hiddenSize, block = 8 * d + (config.useGatedMLP ? 2 : 1) * config.intermediateSize
        let live = 4 * tokens * (block + 3 * 3 * p * p + (layers + 1) * d)
        let heapTokens = batch * min(perImage, mmapThreshold / (4 * max(d, 1)))
        let heap = 4 * heapTokens * (2 * block + (layers + 7) * d)
        return max(live, heap) + threads * 2 * 4 * 96 * 528
    }

    static func tokenCount(_ config: DINOv3Config, height: Int, width: Int) -> Int {
        let p = max(config.patchSize, 1)
        return 1 + config.numRegisterTokens + (height / p) * (width / p)
    }

    /// ConvNeXt: the first stage's block is the largest (depthwise output, norm, 4x-wide MLP and
    /// its activation, residual: about 12 x H/4 x W/4 x C0).
    static func convNextBytes(_ config: DINOv3ConvNextConfig, height: Int, width: Int) -> Int {
        var (h, w, largest) = (height / 4, width / 4, 0)
        for (i, c) in config.hiddenSizes.enumerated() {
            if i > 0 { (h, w) = (h / 2, w / 2) }
            largest = max(largest, 12 * h * w * c)
        }
        return 4 * largest
    }

    /// Throws, before any work, when one image at `height` x `width` would not fit: more than
    /// `limit` bytes of activations, or (without a limit) a peak above the physical memory. The
    /// message names the figure it needs, in GB.
    public static func checkOneImageFits(_ model: DINOv3Model, height: Int, width: Int, layers: Int = 1, stages: [Int] = [],
                                         limit: Int? = nil, limitName: String = "the physical memory") throws {
        let activations = bytesPerImage(model, height: height, width: width, layers: layers, stages: stages)
        let (need, available) = limit.map { (activations, $0) }
            ?? (fixedBytes(model) + activations, Int(clamping: ProcessInfo.processInfo.physicalMemory))
        guard need > available else { return }
        let what = limit == nil ? "in all (weights and runtime \(gigabytes(fixedBytes(model))), activations \(gigabytes(activations)))" : "for the backbone's activations"
        throw BackboneError.badInput("one \(width)x\(height) image needs about \(gigabytes(need)) \(what), more than \(limitName) (\(available >> 20) MiB, \(gigabytes(available)))")
    }

    /// `bytes` in GB (10^9), two significant decimals below 10.
    static func gigabytes(_ bytes: Int) -> String {
        let g = Double(bytes) / 1e9
        return String(format: g < 10 ? "%.2f GB" : "%.1f GB", g)
    }

    /// Images per forward pass so that their transient memory stays within `budget` bytes: at
    /// least 1, at most `maxBatch`.
    public static func batchSize(_ model: DINOv3Model, height: Int, width: Int, layers: Int = 1, stages: [Int] = [],
                                 budget: Int = defaultBudget, maxBatch: Int = defaultMaxBatch) -> Int {
        var batch = 1
        while batch < max(maxBatch, 1)
                && activationBytes(model, batch: batch + 1, height: height, width: width, layers: layers, stages: stages) <= budget {
            batch += 1
        }
        return batch
    }
}
