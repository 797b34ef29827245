import CTorch
import Foundation
import SafeTensors
import Support

/// The weights of a DINOv3 checkpoint (a Hugging Face folder, or Meta's `.pth`: see
/// Checkpoint+Meta.swift), checked strictly against its config: every tensor the architecture
/// needs is present with the right shape, and nothing else is.
/// F32 tensors are viewed in place in the memory-mapped files; BF16/F16 are converted once.
final class Checkpoint {
    /// The folder, or the `.pth` file.
    let location: URL
    let config: DINOv3Config
    /// Tensors by canonical key (no `model.` prefix), as float32 CPU tensors.
    let tensors: [String: Tensor]
    /// Every parameter in the checkpoint, counted (the unused mask token included, as `transformers` does).
    let parameterCount: Int
    /// dtypes found in the files, e.g. ["BF16"].
    let storedDTypes: Set<String>
    /// A short hex digest identifying these exact weights (see `fingerprint(of:)`).
    let fingerprint: String
    /// RoPE periods stored with the weights (Meta's checkpoints); nil: computed from `rope_theta`.
    let ropePeriods: [Float]?
    /// A ConvNeXt's config (`config` is then its `featureView`); nil for a ViT.
    let convNext: DINOv3ConvNextConfig?

    init(location: URL, config: DINOv3Config, tensors: [String: Tensor], parameterCount: Int, storedDTypes: Set<String>,
         fingerprint: String, ropePeriods: [Float]?, convNext: DINOv3ConvNextConfig? = nil) {
        (self.location, self.config, self.tensors, self.parameterCount) = (location, config, tensors, parameterCount)
        (self.storedDTypes, self.fingerprint, self.ropePeriods) = (storedDTypes, fingerprint, ropePeriods)
        self.convNext = convNext
    }

    /// Loads the checkpoint in `folder`, a ViT or a ConvNeXt as its config.json's `model_type`
    /// says. Every file it reads (config, index, shards) must resolve inside `root` (the folder
    /// itself, or the repository folder of a Hugging Face cache, whose snapshot files are links
    /// into its `blobs/`).
    convenience init(folder: URL, root: URL) throws {
        let configPath = try Self.confined(folder.appendingPathComponent("config.json").path, root: root)
        let data: Data
        do { data = try FileSystem.read(configPath, limit: DINOv3Config.maxFileBytes) } catch {
            throw BackboneError.badConfig(path: configPath, reason: "cannot read it (\(error))")
        }
        let convNext = DINOv3ConvNextConfig.isConvNext(data) ? try DINOv3ConvNextConfig.decode(data, path: configPath) : nil
        let config = try convNext?.featureView ?? DINOv3Config.decode(data, path: configPath)
        let files = try Self.weightFiles(in: folder, root: root)
        var found: [String: (file: SafeTensorsFile, name: String, info: SafeTensorInfo)] = [:]
        for file in files {
            for name in file.names {
                guard let info = file.tensors[name] else { continue }
                let key = name.hasPrefix("model.") ? String(name.dropFirst(6)) : name
                if let earlier = found[key] {
                    throw BackboneError.ambiguousTensor(key: key, first: "\(earlier.name) in \(earlier.file.path)",
                                                        second: "\(name) in \(file.path)")
                }
                found[key] = (file, name, info)
            }
        }
        let specification = convNext.map(WeightSpecification.of) ?? WeightSpecification.of(config)
        let expected = specification.shapes
        for (key, shape) in expected.sorted(by: { $0.key < $1.key }) where found[key] == nil && !specification.optional.contains(key) {
            throw BackboneError.missingTensor(key: key, expectedShape: shape)
        }
        let unexpected = found.keys.filter { expected[$0] == nil }.sorted()
        if !unexpected.isEmpty { throw BackboneError.unexpectedTensors(keys: unexpected) }

        var count = 0
        var dtypes = Set<String>()
        var pending: [(key: String, file: SafeTensorsFile, name: String, info: SafeTensorInfo, shape: [Int], dtype: ct_dtype)] = []
        for (key, entry) in found.sorted(by: { $0.key < $1.key }) {
            guard let shape = expected[key] else { continue }
            guard entry.info.shape == shape else {
                throw BackboneError.shapeMismatch(key: key, expected: shape, found: entry.info.shape, file: entry.file.path)
            }
            let dtype = try Self.torchType(entry.info.dtype, key: key)
            count += entry.info.elementCount
            dtypes.insert(entry.info.dtype.rawValue)
            pending.append((key, entry.file, entry.name, entry.info, shape, dtype))
        }
        try Self.checkFinite(pending.map { ($0.file, $0.name, $0.key) })
        var tensors: [String: Tensor] = [:]
        for p in pending where p.info.elementCount > 0 {  // e.g. register_tokens [1, 0, D] is left out
            tensors[p.key] = try p.file.withBytes(of: p.name) { try Self.float32(viewing: $0, shape: p.shape, dtype: p.dtype, owner: p.file, key: p.key) }
        }
        self.init(location: folder, config: config, tensors: tensors, parameterCount: count, storedDTypes: dtypes,
                  fingerprint: Self.fingerprint(of: files), ropePeriods: nil, convNext: convNext)
    }

    /// The libtorch type of a stored dtype (F32, BF16, F16).
    static func torchType(_ dtype: SafeTensorsDType, key: String) throws -> ct_dtype {
        switch dtype {
        case .f32: return CT_FLOAT32
        case .bf16: return CT_BFLOAT16
        case .f16: return CT_FLOAT16
        default: throw BackboneError.unsupportedDType(key: key, dtype: dtype.rawValue)
        }
    }

    /// A float32 tensor of the stored bytes `raw`: a view in place for F32 (`owner` keeps the
    /// bytes alive), a converted copy otherwise.
    static func float32(viewing raw: UnsafeRawBufferPointer, shape: [Int], dtype: ct_dtype, owner: AnyObject, key: String) throws -> Tensor {
        guard let base = raw.baseAddress else { throw BackboneError.missingTensor(key: key, expectedShape: shape) }
        let view = try Tensor.view(base, shape: shape, dtype: dtype, owner: owner)
        return dtype == CT_FLOAT32 ? view : try view.to(.cpu, dtype: CT_FLOAT32)
    }

    /// Refuses weights holding NaN or infinity: one pass over the stored bits of every tensor,
    /// in parallel (about 20 ms for ViT-S/16 in F32).
    static func checkFinite(_ tensors: [(file: SafeTensorsFile, name: String, key: String)]) throws {
        if let i = firstFailure(tensors.count, { try tensors[$0].file.checkFinite(tensors[$0].name) }) {
            throw BackboneError.nonFiniteWeights(key: tensors[i].key, file: tensors[i].file.path)
        }
    }

    /// Runs `check` on 0..<count in parallel; the lowest index that threw, if any.
    static func firstFailure(_ count: Int, _ check: @Sendable (Int) throws -> Void) -> Int? {
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: count) { i in
            do { try check(i) } catch { failures.add(i, error) }
        }
        return failures.first?.0
    }

    /// `path` resolved, refused unless it lies inside `root`.
    static func confined(_ path: String, root: URL) throws -> String {
        guard FileSystem.exists(path) else { return path }  // its absence is reported by whoever reads it
        do { return try FileSystem.confined(path, to: root.path) } catch let error as FileSystemError {
            throw BackboneError.outsideModelFolder(error.description)
        }
    }

    /// Most shard files one index may name.
    static let maxShards = 4096

    /// The safetensors files of the folder: `model.safetensors`, or the shards named by the index.
    /// Shard names are relative paths that must stay inside the model folder.
    static func weightFiles(in folder: URL, root: URL) throws -> [SafeTensorsFile] {
        let single = folder.appendingPathComponent("model.safetensors")
        if FileSystem.exists(single.path) { return [try SafeTensorsFile(path: confined(single.path, root: root))] }
        let index = folder.appendingPathComponent("model.safetensors.index.json")
        guard FileSystem.exists(index.path) else { throw BackboneError.missingWeights(folder: folder.path) }
        let map = try ShardIndex.read(path: confined(index.path, root: root))
        let shards = Set(map.values).sorted()
        guard shards.count <= maxShards else {
            throw BackboneError.badShardIndex(path: index.path, reason: "it names \(shards.count) shard files, more than \(maxShards)")
        }
        var files: [SafeTensorsFile] = []
        for shard in shards {
            let path = folder.appendingPathComponent(shard).path
            guard FileSystem.exists(path) else {
                throw BackboneError.badShardIndex(path: index.path, reason: "shard \(shard) is listed but missing; finish the download")
            }
            let file = try SafeTensorsFile(path: confined(path, root: root))
            for (key, owner) in map where owner == shard && file.tensors[key] == nil {
                throw BackboneError.badShardIndex(path: index.path, reason: "'\(key.prefix(80))' is mapped to \(shard), which lacks it")
            }
            files.append(file)
        }
        return files
    }

    /// A fingerprint of the weights: FNV-1a over each file's header and 64 evenly spaced 64 KiB
    /// samples of its data, so that it is cheap even for a 7B model yet changes with the weights.
    /// Files are taken in the order given (shard-name order), not by their resolved paths, so a
    /// copy in the hub cache (links to blobs named by hash) has the fingerprint of a plain folder.
    static func fingerprint(of files: [SafeTensorsFile]) -> String {
        var hasher = FNV1a()
        for file in files {
            for (name, info) in file.tensors.sorted(by: { $0.key < $1.key }) {
                hasher.combine(name)
                hasher.combine("\(info.dtype.rawValue)\(info.shape)\(info.begin)")
            }
            file.withAllData { sample($0, into: &hasher) }
        }
        return hasher.hexDigest
    }

    /// Hashes 64 evenly spaced 64 KiB samples of `raw` (all of it when smaller).
    static func sample(_ raw: UnsafeRawBufferPointer, into hasher: inout FNV1a) {
        let chunk = 65536
        let samples = raw.count <= 64 * chunk ? 1 : 64
        let span = samples == 1 ? raw.count : chunk
        for i in 0..<samples {
            let start = samples == 1 ? 0 : (raw.count - chunk) * i / (samples - 1)
            hasher.combine(UnsafeRawBufferPointer(rebasing: raw[start..<(start + span)]))
        }
    }
}
