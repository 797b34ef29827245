import CTorch

/// A linear layer's weights as the forward pass applies them, prepared once at load time: on
/// float32 CPU runs where a packed GEMM kernel runs here (AVX-512 or AVX2; see
/// `CPackedGEMM/include/packed_gemm.h`) and the shim uses Debian's libtorch, the weight is packed
/// into the kernel's panels (new memory, in place of the [out, in] matrix); elsewhere it is the
/// matrix itself and libtorch's `linear` applies it.
struct PreparedLinear {
    /// The packed panels or the [out, in] matrix.
    private let weight: Tensor
    let bias: Tensor?
    /// out: the features each input row maps to.
    let outFeatures: Int

    /// Prepares `weight` [out, in] (and `bias` [out]).
    init(weight: Tensor, bias: Tensor?) throws {
        outFeatures = weight.shape.first ?? 0
        let prepared = try Tensor.wrap(ct_prepare_linear(weight.handle), "prepare_linear")
        // Unpacked, the result is the weight itself: keep `weight`, which keeps the memory it
        // may borrow (a mapped checkpoint) alive.
        self.weight = prepared.shape.count == 3 ? prepared : weight
        self.bias = bias
    }

    init(_ linear: DINOv3Weights<Tensor>.Linear) throws {
        try self.init(weight: linear.weight, bias: linear.bias)
    }

    /// Whether the packed kernel applies this layer.
    var isPacked: Bool { weight.shape.count == 3 }

    /// x [..., in] . weight^T + bias: [..., out].
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try .wrap(ct_prepared_linear(x.handle, weight.handle, Int64(outFeatures), bias?.handle), "linear")
    }

    /// GELU(x . weight^T + bias), erf form: the packed kernel applies it as each tile of outputs
    /// is finished, with PyTorch 2.x's float32 arithmetic on AVX-512 CPUs (`dp_gelu_erf`);
    /// otherwise libtorch's `gelu` after its `linear`.
    func applyingGELU(_ x: Tensor) throws -> Tensor {
        try .wrap(ct_prepared_linear_gelu(x.handle, weight.handle, Int64(outFeatures), bias?.handle), "linear")
    }

    /// residual + scale * (x . weight^T + bias), a block's residual connection with layer scale
    /// (`scale` [out]); the packed kernel adds it as each tile of outputs is finished.
    func callAsFunction(_ x: Tensor, adding residual: Tensor, scaledBy scale: Tensor) throws -> Tensor {
        try .wrap(ct_prepared_linear_residual(x.handle, weight.handle, Int64(outFeatures), bias?.handle, residual.handle, scale.handle),
                  "linear")
    }
}
