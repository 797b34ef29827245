import Foundation
import Heads
import SafeTensors
import Support

/// What one shard of a store's extraction did (a feature-cache entry or a patch store).
public struct PartsOutcome: Sendable {
    /// The input positions this process was responsible for.
    public var range: Range<Int>
    /// Images extracted now, and images found in parts already written.
    public var extracted: Int
    public var reused: Int
    public var skipped: [SkippedInput]
    /// The parts that now cover the range, in order.
    public var parts: [Range<Int>]
}

/// The one part mechanism of the feature stores (docs/architecture.md, "One feature store"): a
/// store of an input list is built in parts `NAME.part-START-END.safetensors` beside its file, each
/// a complete store of the inputs START..<END (starting on whole batches, so every image meets the
/// same batch as in one pass), written whole one chunk of about `checkpointEvery` seconds at a time.
/// A killed run continues after its last part; processes given other shards write the parts of
/// their ranges; the run that finds the list covered joins the parts in input order and removes them.
struct StoreParts {
    /// The store's file.
    let file: String

    /// `file` without ".safetensors", then ".part-FIRST-END.safetensors"; cut on bytes, since
    /// `dropLast(12)` on `Character`s would also drop a prepend character before the "." (the
    /// parts of `a\u{600}.safetensors` would be named as those of `a.safetensors`).
    func path(_ range: Range<Int>) -> String {
        (ByteText.dropping(suffix: ".safetensors", from: file) ?? file)
            + String(format: ".part-%010ld-%010ld.safetensors", range.lowerBound, range.upperBound)
    }

    /// The ranges named by the part files (names that do not parse are ignored). Names are matched
    /// as bytes: `hasPrefix` and `==` would take the parts of `\u{e9}.safetensors` for those of
    /// `e\u{301}.safetensors`, another file.
    var ranges: [Range<Int>] {
        ((try? FileSystem.list(folder)) ?? []).compactMap { name in
            guard let rest = ByteText.dropping(prefix: partPrefix, from: name),
                  let range = ByteText.dropping(suffix: ".safetensors", from: rest) else { return nil }
            let fields = ByteText.split(range, on: "-")
            guard fields.count == 2, let lo = Int(fields[0]), let hi = Int(fields[1]), lo < hi,
                  ByteText.same(ByteText.lastComponent(path(lo..<hi)), name) else { return nil }
            return lo..<hi
        }
    }

    /// The folder of the store's file, and the name its parts start with.
    private var folder: String { ByteText.dropLastComponent(file).isEmpty ? "." : ByteText.dropLastComponent(file) }
    private var partPrefix: String { ByteText.lastComponent(ByteText.dropping(suffix: ".safetensors", from: file) ?? file) + ".part-" }

    /// The parts that `check` accepts (given each part's path and range); a rejected one is removed
    /// and `unusable` hears why. A part that is a symbolic link is refused: parts are written and
    /// removed by name, and nothing dinoprobe writes is reached through a link.
    func valid(check: (String, Range<Int>) throws -> Void, unusable: (String, Error) -> Void = { _, _ in }) throws -> [Range<Int>] {
        let all = ranges
        for part in all where try FileSystem.status(path(part), followLinks: false)?.kind == .symlink {
            throw FileSystemError.symbolicLink(path: path(part))
        }
        return all.filter { part in
            do {
                try check(path(part), part)
                return true
            } catch {
                try? FileSystem.removeFile(path(part))
                unusable(path(part), error)
                return false
            }
        }
    }

    /// Writes, chunk by chunk, the positions of `range` that the `valid` parts leave uncovered:
    /// `write(chunk, partPath)` writes one part and returns its skipped inputs (numbered within it).
    func fill(_ range: Range<Int>, valid: [Range<Int>], batchSize: Int, checkpointEvery: Double,
              write: (Range<Int>, String) throws -> [SkippedInput]) throws -> PartsOutcome {
        let tiling = Self.tiling(valid, over: range)
        var outcome = PartsOutcome(range: range, extracted: 0, reused: range.count - Self.count(tiling.gaps), skipped: [], parts: tiling.used)
        for gap in tiling.gaps {
            // Chunks of whole batches: the first one batch, each later one sized from the time the
            // last took to last about `checkpointEvery` seconds.
            var cursor = gap.lowerBound, batches = 1
            while cursor < gap.upperBound {
                let chunk = cursor..<min(gap.upperBound, cursor + batches * max(batchSize, 1)), started = Date()
                let skipped = try write(chunk, path(chunk))
                outcome.extracted += chunk.count
                outcome.parts.append(chunk)
                outcome.skipped += skipped.map { $0.shifted(by: chunk.lowerBound) }
                batches = max(1, Int(min(1e6, checkpointEvery / (max(Date().timeIntervalSince(started), 1e-6) / Double(batches)))))
                cursor = chunk.upperBound
            }
        }
        outcome.parts.sort { $0.lowerBound < $1.lowerBound }
        return outcome
    }

    /// The parts, in input order, that cover `0..<inputs`, or nil when some input is uncovered.
    func covering(_ parts: [Range<Int>], inputs: Int) -> [Range<Int>]? {
        let tiling = Self.tiling(parts, over: 0..<inputs)
        return tiling.gaps.isEmpty && !tiling.used.isEmpty ? tiling.used : nil
    }

    /// What a shard does with `range`: under the parts' claim (shared by shards; a run joining the
    /// store holds it alone, see `CacheEntry`), nothing when the store is already joined, else `fill`.
    func shard(_ range: Range<Int>, reporter: Reporter, fill: (Range<Int>) throws -> PartsOutcome) throws -> PartsOutcome {
        let claim = try CacheEntry.claimParts(of: file) {
            reporter.note("waiting for another dinoprobe run (\($0)), which is extracting the features of \(file)")
        }
        defer { claim.release(removingFile: true) }
        if FileSystem.exists(file) { return PartsOutcome(range: range, extracted: 0, reused: range.count, skipped: [], parts: []) }
        return try fill(range)
    }

    /// Joins the parts `used` (in input order) into `writer`'s file, their rows copied as they are
    /// in `passes` passes, each taking the next share of every part's rows (a part with mirrored
    /// views holds its plain ones first), then removes the parts.
    func join(_ used: [Range<Int>], into writer: FeaturesFile.Writer, passes: Int = 1, source: FeatureSource,
              metadata: [String: String] = [:]) throws {
        defer { writer.discard() }
        var skipped: [SkippedInput] = []
        for pass in 0..<passes {
            for part in used {
                let stored = try SafeTensorsFile(path: path(part)), rows = stored.tensors["source_index"]?.shape.first ?? 0
                guard rows % passes == 0 else { throw TrainingError.badFeaturesFile(path: stored.path, reason: "its \(rows) rows are not \(passes) passes") }
                let taken = try writer.appendRows(of: stored, offset: part.lowerBound, rows: (pass * rows / passes)..<((pass + 1) * rows / passes))
                if pass == 0 { skipped += taken }
            }
        }
        try writer.finish(source: source, skipped: skipped, extraMetadata: metadata)
        removeAll()
    }

    /// Removes every part once they are joined, and the temporary files of parts that killed runs
    /// (on any machine) left: the caller holds the store alone.
    func removeAll() {
        for part in ranges { try? FileSystem.removeFile(path(part)) }
        for name in (try? FileSystem.list(folder)) ?? [] where ByteText.dropping(prefix: "." + partPrefix, from: name) != nil && name.contains("~dinoprobe-tmp~") {
            try? FileSystem.removeFile(folder + "/" + name)
        }
    }

    static func count(_ ranges: [Range<Int>]) -> Int { ranges.reduce(0) { $0 + $1.count } }

    /// Parts chosen to cover `range` from its start (at each position the longest part starting
    /// there), and the positions left uncovered, each gap ending where the next part starts.
    static func tiling(_ parts: [Range<Int>], over range: Range<Int>) -> (used: [Range<Int>], gaps: [Range<Int>]) {
        var used: [Range<Int>] = [], gaps: [Range<Int>] = []
        var cursor = range.lowerBound
        while cursor < range.upperBound {
            if let part = parts.filter({ $0.lowerBound == cursor && $0.upperBound <= range.upperBound }).max(by: { $0.upperBound < $1.upperBound }) {
                used.append(part)
                cursor = part.upperBound
            } else {
                let next = parts.map(\.lowerBound).filter { $0 > cursor && $0 < range.upperBound }.min() ?? range.upperBound
                gaps.append(cursor..<next)
                cursor = next
            }
        }
        return (used, gaps)
    }
}
