import CTorch
import Foundation
import SafeTensors
import Support

/// The weights of a DINOv3 checkpoint folder, checked strictly against its config: every tensor
/// the architecture needs is present with the right shape, and nothing else is.
/// F32 tensors are viewed in place in the memory-mapped files; BF16/F16 are converted once.
final class Checkpoint {
    let folder: URL
    let config: DINOv3Config
    /// Tensors by canonical key (no `model.` prefix), as float32 CPU tensors.
    let tensors: [String: Tensor]
    /// Every parameter in the checkpoint, counted (the unused mask token included, as `transformers` does).
    let parameterCount: Int
    /// dtypes found in the files, e.g. ["BF16"].
    let storedDTypes: Set<String>
    /// A short hex digest identifying these exact weights (see `WeightFingerprint`).
    let fingerprint: String

    init(folder: URL) throws {
        self.folder = folder
        config = try DINOv3Config.load(from: folder.appendingPathComponent("config.json"))
        let files = try Self.weightFiles(in: folder)
        var found: [String: (file: SafeTensorsFile, name: String, info: SafeTensorInfo)] = [:]
        for file in files {
            for (name, info) in file.tensors {
                let key = name.hasPrefix("model.") ? String(name.dropFirst(6)) : name
                found[key] = (file, name, info)
            }
        }
        let expected = Self.expectedShapes(config)
        // The mask token is unused at inference; an empty register tensor may be left out.
        var optional: Set<String> = ["embeddings.mask_token"]
        if config.numRegisterTokens == 0 { optional.insert("embeddings.register_tokens") }
        for (key, shape) in expected.sorted(by: { $0.key < $1.key }) where found[key] == nil && !optional.contains(key) {
            throw BackboneError.missingTensor(key: key, expectedShape: shape)
        }
        let unexpected = found.keys.filter { expected[$0] == nil }.sorted()
        if !unexpected.isEmpty { throw BackboneError.unexpectedTensors(keys: unexpected) }

        var tensors: [String: Tensor] = [:]
        var count = 0
        var dtypes = Set<String>()
        for (key, entry) in found {
            let shape = expected[key]!
            guard entry.info.shape == shape else {
                throw BackboneError.shapeMismatch(key: key, expected: shape, found: entry.info.shape, file: entry.file.path)
            }
            count += entry.info.elementCount
            dtypes.insert(entry.info.dtype.rawValue)
            let dtype: ct_dtype
            switch entry.info.dtype {
            case .f32: dtype = CT_FLOAT32
            case .bf16: dtype = CT_BFLOAT16
            case .f16: dtype = CT_FLOAT16
            default: throw BackboneError.unsupportedDType(key: key, dtype: entry.info.dtype.rawValue)
            }
            if entry.info.elementCount == 0 { continue }  // e.g. register_tokens [1, 0, D]
            let view = try entry.file.withBytes(of: entry.name) { raw in
                try Tensor.view(raw.baseAddress!, shape: shape, dtype: dtype, owner: entry.file)
            }
            tensors[key] = dtype == CT_FLOAT32 ? view : try view.to(.cpu, dtype: CT_FLOAT32)
        }
        self.tensors = tensors
        parameterCount = count
        storedDTypes = dtypes
        fingerprint = Self.fingerprint(of: files)
    }

    /// The safetensors files of the folder: `model.safetensors`, or the shards named by the index.
    static func weightFiles(in folder: URL) throws -> [SafeTensorsFile] {
        let fm = FileManager.default
        let single = folder.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: single.path) { return [try SafeTensorsFile(path: single.path)] }
        let index = folder.appendingPathComponent("model.safetensors.index.json")
        guard fm.fileExists(atPath: index.path) else { throw BackboneError.missingWeights(folder: folder.path) }
        guard let data = try? Data(contentsOf: index),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: String] else {
            throw BackboneError.badShardIndex(path: index.path, reason: "no 'weight_map' object")
        }
        var files: [SafeTensorsFile] = []
        for shard in Set(map.values).sorted() {
            let path = folder.appendingPathComponent(shard).path
            guard fm.fileExists(atPath: path) else {
                throw BackboneError.badShardIndex(path: index.path, reason: "shard \(shard) is listed but missing; finish the download")
            }
            let file = try SafeTensorsFile(path: path)
            for (key, owner) in map where owner == shard && file.tensors[key] == nil {
                throw BackboneError.badShardIndex(path: index.path, reason: "'\(key)' is mapped to \(shard), which lacks it")
            }
            files.append(file)
        }
        return files
    }

    /// Every tensor name the architecture uses, with its shape.
    static func expectedShapes(_ c: DINOv3Config) -> [String: [Int]] {
        let d = c.hiddenSize, f = c.intermediateSize, p = c.patchSize
        var s: [String: [Int]] = [
            "embeddings.cls_token": [1, 1, d],
            "embeddings.mask_token": [1, 1, d],
            "embeddings.patch_embeddings.weight": [d, c.numChannels, p, p],
            "embeddings.patch_embeddings.bias": [d],
            "norm.weight": [d], "norm.bias": [d],
        ]
        s["embeddings.register_tokens"] = [1, c.numRegisterTokens, d]
        for i in 0..<c.numHiddenLayers {
            let l = "layer.\(i)."
            s[l + "norm1.weight"] = [d]; s[l + "norm1.bias"] = [d]
            s[l + "norm2.weight"] = [d]; s[l + "norm2.bias"] = [d]
            for (proj, hasBias) in [("q", c.queryBias), ("k", c.keyBias), ("v", c.valueBias), ("o", c.projBias)] {
                s[l + "attention.\(proj)_proj.weight"] = [d, d]
                if hasBias { s[l + "attention.\(proj)_proj.bias"] = [d] }
            }
            s[l + "layer_scale1.lambda1"] = [d]
            s[l + "layer_scale2.lambda1"] = [d]
            var projections = [("up_proj", [f, d], f), ("down_proj", [d, f], d)]
            if c.useGatedMLP { projections.append(("gate_proj", [f, d], f)) }
            for (name, shape, out) in projections {
                s[l + "mlp.\(name).weight"] = shape
                if c.mlpBias { s[l + "mlp.\(name).bias"] = [out] }
            }
        }
        return s
    }

    /// A fingerprint of the weights: FNV-1a over each file's header and 64 evenly spaced 64 KiB
    /// samples of its data, so that it is cheap even for a 7B model yet changes with the weights.
    static func fingerprint(of files: [SafeTensorsFile]) -> String {
        var hasher = FNV1a()
        for file in files.sorted(by: { $0.path < $1.path }) {
            for (name, info) in file.tensors.sorted(by: { $0.key < $1.key }) {
                hasher.combine(name)
                hasher.combine("\(info.dtype.rawValue)\(info.shape)\(info.begin)")
            }
            file.withAllData { raw in
                let chunk = 65536
                let samples = raw.count <= 64 * chunk ? 1 : 64
                let span = samples == 1 ? raw.count : chunk
                for i in 0..<samples {
                    let start = samples == 1 ? 0 : (raw.count - chunk) * i / (samples - 1)
                    hasher.combine(UnsafeRawBufferPointer(rebasing: raw[start..<(start + span)]))
                }
            }
        }
        return hasher.hexDigest
    }
}
