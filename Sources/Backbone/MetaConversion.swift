import Foundation
import SafeTensors
import Support
import TorchFile

/// Writes Meta's `.pth` as a Hugging Face checkpoint folder (`config.json` + `model.safetensors`)
/// that `transformers`' `DINOv3ViTModel` loads with every key matched: the tensors of `MetaLayout`
/// in their stored dtype, streamed from the mapped file (never held whole in memory), each file
/// written atomically and `config.json` last, so an interrupted conversion leaves no folder that
/// looks complete.
public enum MetaConversion {
    /// What a conversion wrote.
    public struct Summary: Sendable {
        public let config: DINOv3Config
        public let tensors: Int
        public let parameters: Int
        public let dtypes: Set<String>
        /// The stored RoPE periods, which the Hugging Face layout recomputes from `rope_theta`
        /// (they agree to bf16 rounding; nil when the file had none).
        public let periods: [Float]?
    }

    /// Converts `input` into `folder`; `arch` as for `DINOv3Model`. An existing checkpoint in
    /// `folder` is replaced only with `overwrite`. Every destination is checked before the input
    /// is read, and config.json is encoded before anything is written.
    public static func convert(_ input: URL, to folder: URL, arch: MetaArchitecture?, overwrite: Bool) throws -> Summary {
        let (config, weights) = try checkDestinations(folder.path, overwrite: overwrite)
        let file = try TorchCheckpointFile(path: input.path)
        let layout = try MetaLayout(file: file, arch: arch, fileName: input.lastPathComponent)
        try Checkpoint.checkFinite(file)
        if let periods = layout.ropePeriods, !periodsFollow(theta: layout.config.ropeTheta, periods) {
            throw BackboneError.metaCheckpoint(path: input.path, reason: "its RoPE periods are not those of rope_theta \(layout.config.ropeTheta) (to bf16 rounding); the Hugging Face layout recomputes them from rope_theta and cannot hold these (load the .pth directly instead)")
        }
        let configText = try layout.config.jsonText()
        try FileSystem.createDirectories(folder.path)
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "source": "dinoprobe convert \(input.lastPathComponent)"])
        for t in layout.tensors {
            switch t.source {
            case let .values(values):
                try writer.add(t.name, floats: values, shape: t.shape, dtype: t.dtype)
            case let .bytes(name, range):
                try writer.addStream(t.name, dtype: t.dtype, shape: t.shape, byteCount: range.count) { sink in
                    try file.withBytes(of: name) { try sink(UnsafeRawBufferPointer(rebasing: $0[range])) }
                }
            }
        }
        try writer.write(to: weights)
        try AtomicFile.write(Data(configText.utf8), to: config)
        return Summary(config: layout.config, tensors: layout.tensors.count,
                       parameters: layout.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) },
                       dtypes: Set(layout.tensors.map(\.dtype.rawValue)), periods: layout.ropePeriods)
    }

    /// The files a conversion writes into `folder` (config.json, model.safetensors), checked
    /// before any work: the folder is a folder (or can be created) that accepts new files, and
    /// each file is absent, or a regular file that only `overwrite` replaces. A device, FIFO,
    /// folder or anything else at either name is refused by name.
    public static func checkDestinations(_ folder: String, overwrite: Bool) throws -> (config: String, weights: String) {
        try AtomicFile.checkFolderWritable(folder)
        let config = (folder as NSString).appendingPathComponent("config.json")
        let weights = (folder as NSString).appendingPathComponent("model.safetensors")
        for path in [weights, config] {
            try AtomicFile.checkWritable(path)
            if !overwrite, try FileSystem.status(path, followLinks: false) != nil {
                throw BackboneError.badInput("\(path) already exists; choose another --out, or pass --overwrite to replace it")
            }
        }
        return (config, weights)
    }

    /// Whether `periods` are theta^(4j / headDim) to within bf16 rounding (a relative 2^-8).
    static func periodsFollow(theta: Double, _ periods: [Float]) -> Bool {
        let headDim = Double(4 * periods.count)
        return periods.enumerated().allSatisfy { j, p in
            let exact = pow(theta, 4 * Double(j) / headDim)
            return abs(Double(p) - exact) <= exact / 256
        }
    }
}
