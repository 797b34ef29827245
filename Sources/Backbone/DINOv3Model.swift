import CTorch
import Foundation
import Support

/// The number format the backbone computes in.
public enum ComputePrecision: String, Sendable, CaseIterable {
    /// float32 everywhere: the parity-checked default.
    case f32
    /// bfloat16 weights and activations (softmax and outputs in float32): an opt-in for CPUs with
    /// AVX512-BF16 and for GPUs; features drift from f32 (measured by `dinoprobe bench --dtype bf16`).
    case bf16

    var ct: ct_dtype { self == .bf16 ? CT_BFLOAT16 : CT_FLOAT32 }
}

/// A frozen DINOv3 ViT. The forward pass follows `transformers`' `DINOv3ViTModel` step for step;
/// libtorch (through the CTorch shim) does the tensor arithmetic.
public final class DINOv3Model: @unchecked Sendable {
    public let config: DINOv3Config
    /// The checkpoint: its folder, or Meta's `.pth` file.
    public let folder: URL
    /// Parameters stored in the checkpoint.
    public let parameterCount: Int
    /// Stored dtypes (F32, BF16, F16).
    public let storedDTypes: Set<String>
    /// Identifies these exact weights (used by caches and saved heads).
    public let fingerprint: String
    public let device: ComputeDevice
    public let precision: ComputePrecision

    /// A ConvNeXt's own config (`config` is then the view of it that feature code needs: see
    /// `DINOv3ConvNextConfig.featureView`); nil for a ViT.
    public let convNextConfig: DINOv3ConvNextConfig?

    /// The network: a ViT's weights, or a ConvNeXt.
    private enum Body {
        case vit(ViTNetwork)
        case convNext(ConvNextNetwork)
    }

    private let body: Body
    /// Meta's stored RoPE periods (used instead of `rope_theta`'s, as Meta's model does).
    private let ropePeriods: [Float]?
    private var ropeCache: [Int: (cos: Tensor, sin: Tensor)] = [:]
    private let ropeLock = NSLock()

    /// Loads the checkpoint in `folder` (see `ModelLocator.resolve` to find one) onto `device`.
    /// `folder` may also be Meta's `.pth` file, whose architecture `arch` names when its tensors
    /// cannot tell (see `MetaLayout`).
    public init(folder: URL, device: ComputeDevice = .cpu, precision: ComputePrecision = .f32, arch: MetaArchitecture? = nil) throws {
        if device == .cuda && !Torch.cudaAvailable { throw BackboneError.cudaUnavailable }
        let checkpoint: Checkpoint
        if FileSystem.isRegularFile(folder.path) {
            checkpoint = try Checkpoint(metaFile: folder, arch: arch)
        } else {
            if let arch { throw BackboneError.badInput("--arch \(arch.rawValue) applies to Meta's .pth files; \(folder.path) is a folder, whose config.json says the architecture") }
            checkpoint = try Checkpoint(folder: folder, root: ModelLocator.confinementRoot(of: folder))
        }
        config = checkpoint.config
        ropePeriods = checkpoint.ropePeriods
        if let periods = ropePeriods, periods.count * 4 != config.headDim {
            throw BackboneError.metaCheckpoint(path: folder.path, reason: "\(periods.count) RoPE periods for a head dimension of \(config.headDim)")
        }
        self.folder = folder
        parameterCount = checkpoint.parameterCount
        storedDTypes = checkpoint.storedDTypes
        fingerprint = checkpoint.fingerprint
        self.device = device
        self.precision = precision
        convNextConfig = checkpoint.convNext
        let source = LoadedTensors(tensors: checkpoint.tensors, device: device, precision: precision)
        if let convNext = checkpoint.convNext {
            body = .convNext(try ConvNextNetwork(config: convNext, weights: ConvNextWeights(config: convNext, source: source)))
        } else {
            guard let kind = Activation(name: config.hiddenAct) else {
                throw BackboneError.badConfig(path: folder.path, reason: "hidden_act '\(config.hiddenAct)' is not supported")
            }
            let activation: ct_activation_kind = switch kind {
            case .gelu: CT_GELU
            case .geluTanh: CT_GELU_TANH
            case .silu: CT_SILU
            case .relu: CT_RELU
            case .quickGelu: CT_QUICK_GELU
            }
            body = .vit(try ViTNetwork(config: config, weights: DINOv3Weights(config: config, source: source), activation: activation,
                                       place: source.place))
        }
    }

    /// Whether attention runs in the fused CPU kernel (see `ct_self_attention`): float32 on the CPU.
    var usesFusedAttention: Bool { device == .cpu && precision == .f32 && convNextConfig == nil }

    /// Whether RoPE uses periods stored with the weights (Meta's `.pth`) rather than `rope_theta`'s.
    public var usesStoredRoPEPeriods: Bool { ropePeriods != nil }

    /// A short name for the architecture, e.g. "ViT-S/16" when it matches a released variant.
    public var variantName: String { convNextConfig?.variantName ?? ModelVariant.name(for: config) }

    /// Multiply-adds of one image's forward pass at `height` x `width` pixels.
    public func multiplyAdds(height: Int, width: Int) -> Int {
        convNextConfig?.multiplyAdds(height: height, width: width) ?? ComputeCost(config: config, height: height, width: width).multiplyAdds
    }

    /// The indices of the last `n` blocks, oldest first.
    public func lastBlocks(_ n: Int) -> [Int] { Array(max(0, config.numHiddenLayers - n)..<config.numHiddenLayers) }

    /// Runs the backbone on pixel values [batch, 3, height, width] (float32, normalised; sides
    /// multiples of the patch size). Returns the final normed tokens and, when `lastLayers` > 1,
    /// the normed outputs of that many last blocks.
    public func forward(pixels: [Float], batch: Int, height: Int, width: Int, lastLayers: Int = 1) throws -> BackboneOutput {
        guard (1...config.numHiddenLayers).contains(lastLayers) else {
            throw BackboneError.badInput("the last \(lastLayers) blocks were asked for, but this model has \(config.numHiddenLayers)")
        }
        return try forward(pixels: pixels, batch: batch, height: height, width: width, layers: lastBlocks(lastLayers))
    }

    /// Runs the backbone and returns, besides the final normed tokens, the normed outputs of the
    /// blocks `layers` (0-based indices, ascending, each below the depth) and, of a ConvNeXt, the
    /// raw maps of the stages `stages` (see `checkStages`).
    public func forward(pixels: [Float], batch: Int, height: Int, width: Int, layers: [Int], stages: [Int] = []) throws -> BackboneOutput {
        let p = config.patchSize
        guard batch > 0, height > 0, width > 0, height % p == 0, width % p == 0 else {
            throw BackboneError.badInput("input of \(height)x\(width) pixels: both sides must be positive multiples of the patch size \(p)")
        }
        guard pixels.count == batch * 3 * height * width else {
            throw BackboneError.badInput("pixel buffer holds \(pixels.count) values, expected \(batch)x3x\(height)x\(width)")
        }
        try Self.checkLayers(layers, depth: config.numHiddenLayers)
        try checkStages(stages)
        // The pass reads the caller's pixels in place (at 4096 px a copy is 200 MB); no output aliases them.
        let (output, last, maps) = try pixels.withUnsafeBufferPointer { buffer in
            var input = try Tensor.view(UnsafeRawPointer(buffer.baseAddress!), shape: [batch, 3, height, width], dtype: CT_FLOAT32, owner: BorrowedPixels())
            if device != .cpu || precision != .f32 { input = try input.to(device, dtype: precision.ct) }
            return try forward(input, layers: layers, stages: stages)
        }
        let gh = height / p, gw = width / p
        let values = try output.map { try $0.floats() }
        let lastValues: [Float]
        if layers.last == config.numHiddenLayers - 1, let final = values.last { lastValues = final } else { lastValues = try last.floats() }
        var result = BackboneOutput(batch: batch, gridHeight: gh, gridWidth: gw, registers: config.numRegisterTokens,
                                    dim: config.hiddenSize, lastHiddenState: lastValues, layers: values)
        result.stages = try zip(stages, maps).map { stage, map in
            let s = map.shape
            return StageMap(stage: stage, batch: s[0], channels: s[1], height: s[2], width: s[3], values: try map.floats())
        }
        return result
    }

    /// Throws unless `layers` is a non-empty ascending list of block indices below `depth`.
    public static func checkLayers(_ layers: [Int], depth: Int) throws {
        guard !layers.isEmpty, layers.allSatisfy({ (0..<depth).contains($0) }), zip(layers, layers.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw BackboneError.badInput("blocks \(layers) were asked for: give ascending block indices from 0 to \(depth - 1)")
        }
    }

    /// The forward pass on a tensor; returns the normed outputs of blocks `layers`, the normed
    /// output of the last block (a ConvNeXt has one: its output) and a ConvNeXt's raw maps of
    /// the stages `stages` (NCHW; a ViT has none).
    ///
    /// On the CPU with more than one thread, the images are split into one equal slice per
    /// thread, each slice's pass runs on its own thread with every op inside it serial, and the
    /// outputs are joined; images left over from an equal split run after, with the threads
    /// sharing each op. No image's result depends on which images it is batched with (each row of
    /// every product and norm is computed the same way), so the outputs equal one pass over the
    /// whole batch bit for bit; what changes is that the threads no longer meet after every op.
    func forward(_ pixels: Tensor, layers: [Int], stages: [Int] = []) throws -> (layers: [Tensor], last: Tensor, stages: [Tensor]) {
        let plan = ImageSlices(batch: pixels.shape.first ?? 0, threads: device == .cpu ? TeamTasks.threads : 1)
        if plan.slices.count < 2 { return try forwardTogether(pixels, layers: layers, stages: stages) }
        var parts = try TeamTasks.run(count: plan.slices.count) { i in
            let slice = plan.slices[i]
            return try forwardTogether(pixels.narrow(0, start: slice.lowerBound, length: slice.count), layers: layers, stages: stages)
        }
        if let rest = plan.rest {
            parts.append(try forwardTogether(pixels.narrow(0, start: rest.lowerBound, length: rest.count), layers: layers, stages: stages))
        }
        let joined = try parts[0].layers.indices.map { j in try Tensor.cat(parts.map { $0.layers[j] }, dim: 0) }
        // A ViT's last output is its last kept layer's when that is the last block: join it once.
        let lastIsKept = parts.allSatisfy { $0.layers.last === $0.last }
        let last = lastIsKept ? joined[joined.count - 1] : try Tensor.cat(parts.map(\.last), dim: 0)
        let maps = try parts[0].stages.indices.map { j in try Tensor.cat(parts.map { $0.stages[j] }, dim: 0) }
        return (joined, last, maps)
    }

    /// The forward pass over the whole batch at once, the threads sharing each op.
    private func forwardTogether(_ pixels: Tensor, layers: [Int], stages: [Int]) throws -> (layers: [Tensor], last: Tensor, stages: [Tensor]) {
        switch body {
        case let .vit(network):
            let shape = pixels.shape
            let rope = try ropeTables(rows: shape[2] / config.patchSize, cols: shape[3] / config.patchSize)
            let (outputs, last) = try network.forward(pixels, layers: layers, rope: rope)
            return (outputs, last, [])
        case let .convNext(network):
            let (output, maps) = try network.forward(pixels, stages: stages)
            return ([output], output, maps)
        }
    }

    private func ropeTables(rows: Int, cols: Int) throws -> (cos: Tensor, sin: Tensor) {
        ropeLock.lock()
        defer { ropeLock.unlock() }
        let key = rows << 32 | cols
        if let cached = ropeCache[key] { return cached }
        let tables = RoPETables(rows: rows, cols: cols, headDim: config.headDim, theta: config.ropeTheta, periods: ropePeriods)
        let shape = [rows * cols, config.headDim]
        let place = LoadedTensors(tensors: [:], device: device, precision: precision).place
        let cos = try place(Tensor(tables.cos, shape: shape)), sin = try place(Tensor(tables.sin, shape: shape))
        ropeCache[key] = (cos, sin)
        return (cos, sin)
    }
}

/// Checkpoint tensors (already shape-checked) moved to the run's device and precision.
private struct LoadedTensors: WeightSource {
    let tensors: [String: Tensor]
    let device: ComputeDevice
    let precision: ComputePrecision

    func take(_ name: String, shape: [Int], required: Bool) throws -> Tensor? {
        guard let tensor = tensors[name] else {
            if required && !shape.contains(0) { throw BackboneError.missingTensor(key: name, expectedShape: shape) }
            return nil
        }
        return try place(tensor)
    }

    /// `tensor` on the run's device and precision.
    func place(_ tensor: Tensor) throws -> Tensor {
        device == .cpu && precision == .f32 ? tensor : try tensor.to(device, dtype: precision.ct)
    }
}
/// The owner of a view of pixels the caller keeps alive for the whole pass (see `forward(pixels:)`).
private final class BorrowedPixels {}
