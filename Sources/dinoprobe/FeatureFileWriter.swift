import ArgumentParser
import Backbone
import Foundation
import SafeTensors

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
    private let patchFile: String?
    private var patchHandle: FileHandle?

    init(destination: String, dim: Int, layers: Int, registers: Int, patchTokens: Bool, dtype: SafeTensorsDType) throws {
        self.destination = destination
        self.dim = dim
        self.layers = layers
        self.registers = registers
        self.dtype = dtype
        let url = URL(fileURLWithPath: destination)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if patchTokens {
            let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).patches-\(getpid())").path
            guard FileManager.default.createFile(atPath: temp, contents: nil) else {
                throw ValidationError("cannot write next to \(destination) (permissions or disk full?)")
            }
            patchFile = temp
            patchHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: temp))
        } else {
            patchFile = nil
        }
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
            if let handle = patchHandle {
                grid = (out.gridHeight, out.gridWidth)
                try handle.write(contentsOf: encode(Array(out.patchTokens(b))))
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
        if let patchFile, let handle = patchHandle, let grid {
            try handle.synchronize()
            try writer.addFile("patch_tokens", dtype: dtype, shape: [count, grid.0, grid.1, dim], path: patchFile)
            try writer.add("registers", floats: registerTokens, shape: [count, registers, dim], dtype: dtype)
        }
        try writer.write(to: destination)
    }

    /// Removes the temporary patch file (after success or failure).
    func discard() {
        try? patchHandle?.close()
        patchHandle = nil
        if let patchFile { try? FileManager.default.removeItem(atPath: patchFile) }
    }
}
