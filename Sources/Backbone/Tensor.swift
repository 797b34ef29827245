import CTorch
import Foundation

/// An error reported by libtorch, with the operation that raised it.
public struct TorchError: Error, CustomStringConvertible {
    public let operation: String
    public let message: String
    public var description: String { "libtorch \(operation) failed: \(message)" }
}

/// Where tensors live and run.
public enum ComputeDevice: String, Sendable, CaseIterable {
    case cpu, cuda

    var ct: ct_device { self == .cuda ? CT_CUDA : CT_CPU }
}

/// A libtorch tensor owned from Swift. The handle is freed when the last reference goes; a tensor
/// that wraps memory it does not own keeps that memory's owner alive.
final class Tensor: @unchecked Sendable {
    let handle: OpaquePointer
    private let owner: AnyObject?

    private init(handle: OpaquePointer, owner: AnyObject?) {
        self.handle = handle
        self.owner = owner
    }

    deinit { ct_free(handle) }

    /// Wraps a result of the C API, turning NULL into a TorchError.
    static func wrap(_ pointer: OpaquePointer?, _ operation: String, owner: AnyObject? = nil) throws -> Tensor {
        guard let pointer else { throw TorchError(operation: operation, message: String(cString: ct_last_error())) }
        return Tensor(handle: pointer, owner: owner)
    }

    /// Wraps a result that may share this tensor's storage (a view, or `to` returning itself):
    /// when that storage is memory libtorch does not own, the result keeps this tensor (and so
    /// the memory's owner) alive.
    private func derived(_ pointer: OpaquePointer?, _ operation: String) throws -> Tensor {
        try .wrap(pointer, operation, owner: owner == nil ? nil : self)
    }

    /// A float32 CPU tensor holding a copy of `values`.
    convenience init(_ values: [Float], shape: [Int]) throws {
        precondition(values.count == shape.reduce(1, *), "shape \(shape) does not match \(values.count) values")
        let dims = shape.map(Int64.init)
        let pointer = values.withUnsafeBytes { raw in
            ct_from_blob(raw.baseAddress, dims, Int32(dims.count), CT_FLOAT32, 1)
        }
        guard let pointer else { throw TorchError(operation: "from_blob", message: String(cString: ct_last_error())) }
        self.init(handle: pointer, owner: nil)
    }

    /// A tensor viewing `bytes` in place (no copy); `owner` keeps the bytes alive.
    static func view(_ bytes: UnsafeRawPointer, shape: [Int], dtype: ct_dtype, owner: AnyObject) throws -> Tensor {
        let dims = shape.map(Int64.init)
        return try wrap(ct_from_blob(bytes, dims, Int32(dims.count), dtype, 0), "from_blob", owner: owner)
    }

    var shape: [Int] { (0..<Int(ct_ndim(handle))).map { Int(ct_size(handle, Int32($0))) } }
    var count: Int { Int(ct_numel(handle)) }

    /// The values as contiguous float32 on the CPU.
    func floats() throws -> [Float] {
        let n = count
        var failed = false
        let values = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            failed = ct_copy_to_floats(handle, buffer.baseAddress, Int64(n)) != 0
            initialized = n
        }
        if failed { throw TorchError(operation: "copy_to_floats", message: String(cString: ct_last_error())) }
        return values
    }

    func to(_ device: ComputeDevice, dtype: ct_dtype = CT_FLOAT32) throws -> Tensor {
        try derived(ct_to(handle, device.ct, dtype), "to(\(device.rawValue))")
    }

    func reshape(_ shape: [Int]) throws -> Tensor {
        let dims = shape.map(Int64.init)
        return try derived(ct_reshape(handle, dims, Int32(dims.count)), "reshape")
    }

    func permute(_ order: [Int]) throws -> Tensor {
        let dims = order.map(Int64.init)
        return try derived(ct_permute(handle, dims, Int32(dims.count)), "permute")
    }

    func narrow(_ dim: Int, start: Int, length: Int) throws -> Tensor {
        try derived(ct_narrow(handle, Int32(dim), Int64(start), Int64(length)), "narrow")
    }

    func expand(_ shape: [Int]) throws -> Tensor {
        let dims = shape.map(Int64.init)
        return try derived(ct_expand(handle, dims, Int32(dims.count)), "expand")
    }

    static func cat(_ tensors: [Tensor], dim: Int) throws -> Tensor {
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        return try handles.withUnsafeBufferPointer { buffer in
            try .wrap(ct_cat(buffer.baseAddress, Int32(tensors.count), Int32(dim)), "cat")
        }
    }

    static func + (a: Tensor, b: Tensor) throws -> Tensor { try .wrap(ct_add(a.handle, b.handle), "add") }
    static func * (a: Tensor, b: Tensor) throws -> Tensor { try .wrap(ct_mul(a.handle, b.handle), "mul") }

    /// self + b * c.
    func addingProduct(_ b: Tensor, _ c: Tensor) throws -> Tensor { try .wrap(ct_addcmul(handle, b.handle, c.handle), "addcmul") }

    func activation(_ kind: ct_activation_kind) throws -> Tensor { try .wrap(ct_activation(handle, kind), "activation") }

    /// Applies the activation in place: only on a tensor this code made and nothing else views.
    func activateInPlace(_ kind: ct_activation_kind) throws { try Self.check(ct_activation_in_place(handle, kind), "activation_") }

    /// self *= b, in place (same rule as `activateInPlace`).
    func multiplyInPlace(_ b: Tensor) throws { try Self.check(ct_mul_in_place(handle, b.handle), "mul_") }

    private static func check(_ status: Int32, _ operation: String) throws {
        if status != 0 { throw TorchError(operation: operation, message: String(cString: ct_last_error())) }
    }

    func linear(_ weight: Tensor, _ bias: Tensor?) throws -> Tensor {
        try .wrap(ct_linear(handle, weight.handle, bias?.handle), "linear")
    }

    func layerNorm(_ weight: Tensor, _ bias: Tensor, eps: Double) throws -> Tensor {
        try .wrap(ct_layer_norm(handle, weight.handle, bias.handle, eps), "layer_norm")
    }

    func conv2d(_ weight: Tensor, _ bias: Tensor, stride: Int) throws -> Tensor {
        try .wrap(ct_conv2d(handle, weight.handle, bias.handle, Int64(stride)), "conv2d")
    }

    /// A convolution with zero `padding` and channel `groups` (groups = channels: depthwise).
    func conv2d(_ weight: Tensor, _ bias: Tensor, stride: Int, padding: Int, groups: Int) throws -> Tensor {
        try .wrap(ct_conv2d_grouped(handle, weight.handle, bias.handle, Int64(stride), Int64(padding), Int64(groups)), "conv2d")
    }

    /// The mean over `dims`, kept as size 1.
    func mean(_ dims: [Int]) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try .wrap(ct_mean(handle, d, Int32(d.count), 1), "mean")
    }

    /// DINOv3's RoPE self-attention on the fused projection `qkv` [batch, tokens, 3 * heads *
    /// headDim]; returns [batch, tokens, heads * headDim] (see `ct_self_attention`). `fusedKernel`
    /// false forces the ATen-ops composition (the kernel's reference in tests); `blasProducts`
    /// makes the fused kernel run its products on OpenBLAS, as it does where no packed GEMM runs.
    static func selfAttention(qkv: Tensor, cos: Tensor, sin: Tensor, heads: Int, scale: Double, fusedKernel: Bool = true,
                              blasProducts: Bool = false) throws -> Tensor {
        let kernel: Int32 = fusedKernel ? (blasProducts ? 2 : 1) : 0
        return try .wrap(ct_self_attention(qkv.handle, cos.handle, sin.handle, Int64(heads), scale, kernel), "self_attention")
    }
}

/// Facts about the linked libtorch.
public enum Torch {
    public static var version: String { String(cString: ct_torch_version()) }
    public static var cudaAvailable: Bool { ct_cuda_available() != 0 }
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }
    public static var threads: Int { Int(ct_get_num_threads()) }
    public static func setThreads(_ n: Int) { ct_set_num_threads(Int32(n)) }
    /// Keeps freed activation memory for reuse (see ct_keep_freed_memory); call once at start.
    public static func keepFreedMemory() { ct_keep_freed_memory() }
    public static var parallelInfo: String { String(cString: ct_parallel_info()) }
}
