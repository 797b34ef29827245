import Foundation
import SafeTensors
import Support

extension FeaturesFile {
    /// Writes a features file as rows arrive, holding only the image paths in memory: each
    /// tensor goes to its own spool file beside the destination, and the spools are copied into
    /// the final file at the end, which appears whole or not at all.
    public final class Writer {
        public let destination: String
        public let dim: Int
        /// Blocks kept per image (the last `layers` of the backbone).
        public let layers: Int
        public let registers: Int
        public let dtype: SafeTensorsDType
        public let patchTokens: Bool
        /// The ConvNeXt stage maps kept per image, ascending.
        public let stages: [StageLayout]
        /// For a store of an input list (a cache entry): the inputs, and the rows each one has.
        public let inputs: Int?
        public let views: Int
        /// Whether rows hold CLS and mean-patch tokens (and registers); if not, patch tokens only.
        public let pooled: Bool
        /// A dense target per row (a class mask, a depth map): its tensor and element type, and its size.
        public let target: (name: String, dtype: SafeTensorsDType, height: Int, width: Int)?
        public private(set) var count = 0
        /// The patch grid (height, width), once known.
        public private(set) var grid: (Int, Int)?
        private var paths: [String] = []
        /// The input of each row (a store of an input list only).
        private var sourceIndex: [Int64] = []
        /// Tensor names in file order, and their spools.
        private let names: [String]
        private var spools: [String: Spool] = [:]

        /// `dtype`: .f32 or .f16. `grid`: the patch grid when known ahead (so that a file of no
        /// rows still has its patch_tokens shape). `stages`: stage maps to keep, ascending. `inputs`:
        /// the file is a store of that many inputs, `views` rows per input not skipped: each row
        /// names its input (`source_index`) and each skipped input its position. `pooled: false`:
        /// rows of patch tokens only, each with its `target` when given.
        public init(destination: String, dim: Int, layers: Int, registers: Int, patchTokens: Bool, dtype: SafeTensorsDType,
                    grid: (Int, Int)? = nil, stages: [StageLayout] = [], inputs: Int? = nil, views: Int = 1, pooled: Bool = true,
                    target: (name: String, dtype: SafeTensorsDType, height: Int, width: Int)? = nil) throws {
            try require(dim > 0 && layers > 0 && registers >= 0 && views > 0 && (inputs ?? 0) >= 0, "features layout",
                        "dim, layers, registers, inputs and views out of range")
            try require(pooled || (patchTokens && registers == 0 && stages.isEmpty), "features layout", "rows without pooled tokens hold patch tokens only")
            try require(target.map { $0.height > 0 && $0.width > 0 && $0.name.hasPrefix("target_") } ?? true, "target layout", "a target_ tensor of a positive size")
            try require(dtype == .f32 || dtype == .f16, "features dtype", "f32 or f16")
            try require(zip(stages, stages.dropFirst()).allSatisfy { $0.index < $1.index }, "stages", "stage indices must be ascending and distinct")
            self.destination = destination
            self.dim = dim
            self.layers = layers
            self.registers = registers
            self.dtype = dtype
            self.patchTokens = patchTokens
            self.grid = grid
            self.stages = stages
            (self.inputs, self.views, self.pooled, self.target) = (inputs, views, pooled, target)
            names = (pooled ? ["cls", "mean_patch"] + (layers > 1 ? ["layers_cls", "layers_mean_patch"] : []) : [])
                + (patchTokens ? ["patch_tokens"] + (pooled ? ["registers"] : []) : []) + stages.map(\.tensorName) + (target.map { [$0.name] } ?? [])
            do {
                for name in names { spools[name] = Spool(try AtomicFile.begin(destination + "." + name), dtype: tensorType(name)) }
            } catch {
                discard()
                throw error
            }
        }

        private func spool(_ name: String) throws -> Spool {
            guard let spool = spools[name] else { throw HeadError.invalidArgument(what: "features writer", detail: "it is already finished") }
            return spool
        }

        /// Adds one image: CLS and mean-patch tokens of each kept block ([layers, dim] each,
        /// oldest first; none in a file without pooled tokens), and, when writing them, its patch
        /// tokens [gh, gw, dim] and registers, its maps of the kept stages ([channels, height, width]
        /// each, in stage order) and its target's bytes [height, width]; `input`: its position in
        /// the input list (a store of an input list only).
        public func append<C: Collection, M: Collection>(path: String, input: Int? = nil, cls c: C, meanPatch m: M,
                                                         patchTokens: (values: ArraySlice<Float>, gridHeight: Int, gridWidth: Int)? = nil,
                                                         registers r: ArraySlice<Float>? = nil, stageMaps: [ArraySlice<Float>] = [],
                                                         target t: UnsafeRawBufferPointer? = nil) throws where C.Element == Float, M.Element == Float {
            try require(c.count == (pooled ? layers * dim : 0) && m.count == c.count, "image features", "expected \(pooled ? layers : 0) x \(dim) values")
            try require(inputs.map { n in input.map { (0..<n).contains($0) } ?? false } ?? (input == nil), "input", "a position in the input list, for a store of one")
            try require(stageMaps.count == stages.count && zip(stageMaps, stages).allSatisfy { $0.count == $1.size }, "stage maps",
                        "expected \(stages.map(\.shape)) per image, got \(stageMaps.map(\.count)) values")
            try require(t?.count == target.map { $0.height * $0.width * $0.dtype.size }, "target", "a target of the file's size when it keeps one")
            if self.patchTokens {
                guard let p = patchTokens, (r ?? []).count == registers * dim, p.values.count == p.gridHeight * p.gridWidth * dim,
                      grid.map({ $0 == (p.gridHeight, p.gridWidth) }) ?? true else {
                    throw HeadError.invalidArgument(what: "patch tokens", detail: "every image needs patch tokens of one grid and its registers")
                }
                grid = (p.gridHeight, p.gridWidth)
                try spool("patch_tokens").write(p.values)
                if pooled { try spool("registers").write(r ?? []) }
            }
            if let t, let name = target?.name { try spool(name).write(raw: t) }
            for (map, stage) in zip(stageMaps, stages) { try spool(stage.tensorName).write(map) }
            if pooled {
                try spool("cls").write(c.suffix(dim))
                try spool("mean_patch").write(m.suffix(dim))
            }
            if pooled && layers > 1 {
                try spool("layers_cls").write(c)
                try spool("layers_mean_patch").write(m)
            }
            paths.append(path)
            if let input { sourceIndex.append(Int64(input)) }
            count += 1
        }

        /// Adds one row of a file without pooled tokens (see `init`): its patch tokens, and its target.
        public func append(path: String, input: Int? = nil, patchTokens p: (values: ArraySlice<Float>, gridHeight: Int, gridWidth: Int),
                           target: UnsafeRawBufferPointer? = nil) throws {
            try append(path: path, input: input, cls: [Float](), meanPatch: [Float](), patchTokens: p, target: target)
        }

        /// Adds every row of a features file of this layout (a shard, a checkpointed chunk or a part),
        /// copying its bytes as they are; returns its skipped inputs. Its tensors are checked
        /// against this writer's layout and must hold finite values. A part of a store of an input
        /// list holds inputs `offset...`: its rows and skipped inputs are numbered from there.
        /// `rows`: only those rows (all its skipped inputs are still returned).
        @discardableResult
        public func appendRows(of file: SafeTensorsFile, offset: Int = 0, rows: Range<Int>? = nil) throws -> [SkippedInput] {
            func fail(_ reason: String) -> HeadError { .badFeaturesFile(path: file.path, reason: reason) }
            guard file.metadata["format"] == FeaturesFile.format else { throw fail("it was not written by `dinoprobe extract`") }
            let expected = Set(names + (inputs == nil ? [] : ["source_index"]))
            guard Set(file.tensors.keys) == expected else {
                throw fail("it holds the tensors \(file.tensors.keys.sorted()), not \(expected.sorted())")
            }
            let n = file.tensors[names[0]]?.shape.first ?? -1
            if let shape = file.tensors["patch_tokens"]?.shape, shape.count == 4 { grid = grid ?? (shape[1], shape[2]) }
            for name in names {
                guard let info = file.tensors[name], info.dtype == tensorType(name), info.shape == shape(of: name, rows: n) else {
                    throw fail("its '\(name)' is \(file.tensors[name].map { "\($0.dtype.rawValue) \($0.shape)" } ?? "missing"), not \(tensorType(name).rawValue) \(shape(of: name, rows: max(n, 0)))")
                }
            }
            let range = rows ?? 0..<n
            guard range.lowerBound >= 0, range.upperBound <= n else { throw fail("it has no rows \(range)") }
            guard let rowPaths = FeaturesFile.decodeJSON([String].self, file.metadata["paths"]), rowPaths.count == n else {
                throw fail("its metadata does not list one image path per row (\(n) rows)")
            }
            let listed = FeaturesFile.skipped(file.metadata)
            guard listed.allSatisfy({ ($0.index ?? 0) >= 0 && ($0.index ?? 0) <= Int.max - offset }) else {
                throw fail("its skipped list names a position out of range")
            }
            let skipped = listed.map { $0.shifted(by: offset) }
            var rowInputs: [Int64] = []
            do {
                // Only the rows copied: a part joined in passes is checked once, not once a pass.
                for name in names where tensorType(name) != .u8 {
                    let rowValues = shape(of: name, rows: 1).reduce(1, *)
                    try file.checkFinite(name, elements: (range.lowerBound * rowValues)..<(range.upperBound * rowValues))
                }
                if inputs != nil { rowInputs = try file.ints("source_index").map { $0 + Int64(offset) } }
            } catch { throw fail("\(error)") }
            guard rowInputs.count == (inputs == nil ? 0 : n) else { throw fail("its source_index does not have one input per row") }
            for name in names {
                let spool = try spool(name), rowBytes = shape(of: name, rows: 1).reduce(tensorType(name).size, *)
                try file.withBytes(of: name) { try spool.write(raw: UnsafeRawBufferPointer(rebasing: $0[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)])) }
            }
            paths += rowPaths[range]
            sourceIndex += rowInputs.isEmpty ? [] : rowInputs[range]
            count += range.count
            return skipped
        }

        /// The shape of tensor `name` with `rows` rows.
        private func shape(of name: String, rows: Int) -> [Int] {
            switch name {
            case "layers_cls", "layers_mean_patch": return [rows, layers, dim]
            case "patch_tokens": return [rows, grid?.0 ?? 0, grid?.1 ?? 0, dim]
            case "registers": return [rows, registers, dim]
            case target?.name: return [rows, target?.height ?? 0, target?.width ?? 0]
            default:
                if let stage = stages.first(where: { $0.tensorName == name }) { return [rows] + stage.shape }
                return [rows, dim]
            }
        }

        /// The element type of tensor `name`.
        private func tensorType(_ name: String) -> SafeTensorsDType { name == target?.name ? target?.dtype ?? dtype : dtype }

        /// Writes the file (whole or not at all) and removes the spools.
        public func finish(source: FeatureSource, skipped: [SkippedInput], extraMetadata: [String: String] = [:]) throws {
            defer { discard() }
            if patchTokens && grid == nil { throw HeadError.invalidArgument(what: "patch tokens", detail: "a file of no rows needs its grid given") }
            let p = source.preprocessing
            var meta = extraMetadata
            meta["format"] = FeaturesFile.format
            meta["model"] = source.backboneID
            meta["backbone_fingerprint"] = source.backboneFingerprint
            meta["preset"] = p.preset.rawValue
            meta["size"] = "\(p.size)"
            meta["mean"] = p.mean.map { "\($0)" }.joined(separator: ",")
            meta["std"] = p.std.map { "\($0)" }.joined(separator: ",")
            meta["layers"] = "\(layers)"
            if !stages.isEmpty { meta["stages"] = stages.map { "\($0.index)" }.joined(separator: ",") }
            meta["paths"] = try FeaturesFile.jsonText(paths)
            // A skipped input's position in a store of an input list (none for what was never in the list).
            meta["skipped"] = try FeaturesFile.jsonText(skipped.map { s in s.index.map { inputs == nil ? [s.path, s.reason] : [String($0), s.path, s.reason] }
                ?? [s.path, s.reason] })
            if let inputs { (meta["inputs"], meta["views"]) = ("\(inputs)", "\(views)") }
            var writer = SafeTensorsWriter(metadata: meta)
            if inputs != nil { try writer.add("source_index", int64s: sourceIndex, shape: [count]) }
            for name in names {
                let spool = try spool(name)
                try spool.finishWriting()
                try writer.addFile(name, dtype: tensorType(name), shape: shape(of: name, rows: count), path: spool.output.temporaryPath)
            }
            try writer.write(to: destination)
        }

        /// Removes the spools (after success or failure).
        public func discard() {
            for spool in spools.values { spool.output.discard() }
            spools = [:]
        }
    }

    /// One tensor's bytes on their way to disk, buffered.
    final class Spool {
        let output: AtomicFile.Output
        let dtype: SafeTensorsDType
        private var buffer: [UInt8] = []

        init(_ output: AtomicFile.Output, dtype: SafeTensorsDType) {
            self.output = output
            self.dtype = dtype
        }

        /// Appends values stored as the spool's dtype (f32 or f16, little-endian).
        func write<C: Collection>(_ values: C) throws where C.Element == Float {
            if dtype == .f16 {
                for v in values { withUnsafeBytes(of: FloatConversion.floatToF16(v).littleEndian) { buffer.append(contentsOf: $0) } }
            } else {
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { buffer.append(contentsOf: $0) } }
            }
            if buffer.count >= 1 << 20 { try flush() }
        }

        /// Appends bytes as they are.
        func write(raw: UnsafeRawBufferPointer) throws {
            try flush()
            try output.write(raw)
        }

        func flush() throws {
            guard !buffer.isEmpty else { return }
            try buffer.withUnsafeBytes { try output.write($0) }
            buffer.removeAll(keepingCapacity: true)
        }

        func finishWriting() throws {
            try flush()
            try output.finishWriting()
        }
    }
}
