import ArgumentParser
import Backbone
import Foundation
import SafeTensors
import Support

/// Collects extracted features and writes them as one safetensors file. Patch tokens, which can
/// be large, are streamed to a hidden temporary file beside the destination and copied into the
/// final file at the end; the destination appears whole or not at all.
final class FeatureFileWriter {
    let destination: String
    let dim: Int
    let layers: Int
    let registers: Int
    let dtype: SafeTensorsDType
    private(set) var count = 0
    private(set) var paths: [String] = []
    private var cls: [Float] = []
    private var meanPatch: [Float] = []
    private var layersCLS: [Float] = []
    private var layersMean: [Float] = []
    private var registerTokens: [Float] = []
    private var grid: (Int, Int)?
    /// Patch tokens are spooled to a temporary file (removed when done, or on Ctrl-C).
    private var patchSpool: AtomicFile.Output?

    init(destination: String, dim: Int, layers: Int, registers: Int, patchTokens: Bool, dtype: SafeTensorsDType) throws {
        self.destination = destination
        self.dim = dim
        self.layers = layers
        self.registers = registers
        self.dtype = dtype
        if patchTokens { patchSpool = try AtomicFile.begin(destination + ".patches") }
    }

    func append(_ batch: ExtractedBatch, paths batchPaths: [String]) throws {
        let out = batch.output
        for b in 0..<out.batch {
            cls += out.cls(b)
            meanPatch += out.meanPatch(b)
            if layers > 1 {
                for layer in out.layers {
                    layersCLS += out.cls(b, layer: layer)
                    layersMean += out.meanPatch(b, layer: layer)
                }
            }
            if let spool = patchSpool {
                grid = (out.gridHeight, out.gridWidth)
                try spool.write(encode(Array(out.patchTokens(b))))
                registerTokens += out.registerTokens(b)
            }
        }
        paths += batchPaths
        count += out.batch
    }

    private func encode(_ values: [Float]) -> Data {
        dtype == .f16
            ? values.map { FloatConversion.floatToF16($0).littleEndian }.withUnsafeBytes { Data($0) }
            : values.withUnsafeBytes { Data($0) }
    }

    func finish(metadata: [String: String]) throws {
        defer { discard() }
        var meta = metadata
        meta["paths"] = try jsonString(paths)
        var writer = SafeTensorsWriter(metadata: meta)
        try writer.add("cls", floats: cls, shape: [count, dim], dtype: dtype)
        try writer.add("mean_patch", floats: meanPatch, shape: [count, dim], dtype: dtype)
        if layers > 1 {
            try writer.add("layers_cls", floats: layersCLS, shape: [count, layers, dim], dtype: dtype)
            try writer.add("layers_mean_patch", floats: layersMean, shape: [count, layers, dim], dtype: dtype)
        }
        if let spool = patchSpool, let grid {
            try spool.finishWriting()
            try writer.addFile("patch_tokens", dtype: dtype, shape: [count, grid.0, grid.1, dim], path: spool.temporaryPath)
            try writer.add("registers", floats: registerTokens, shape: [count, registers, dim], dtype: dtype)
        }
        try writer.write(to: destination)
    }

    /// Removes the temporary patch file (after success or failure).
    func discard() {
        patchSpool?.discard()
        patchSpool = nil
    }
}
