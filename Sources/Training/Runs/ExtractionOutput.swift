import Support

/// Where `extract` writes: one features file, claimed before any work, or a folder of shards;
/// and what it says once written.
public enum ExtractionOutput {
    /// Claims the file `out` (a second run into it refuses, never replaces it); an existing file
    /// is refused without `overwrite`. Release the claim once the file is written.
    public static func claimFile(_ out: String, overwrite: Bool) throws -> FolderLock {
        try AtomicFile.checkWritable(out)
        let claim = try FolderLock.claim(out)
        if try FileSystem.status(out, followLinks: false) != nil && !overwrite {
            claim.release(removingFile: true)
            throw TrainingError.badOption("\(out) already exists; choose another --out, or pass --overwrite to replace it")
        }
        return claim
    }

    /// Checks, before any work, that `out` can be the folder of `choice`'s shards.
    public static func checkShardFolder(_ out: String, shard choice: ShardEnvironment.Choice, overwrite: Bool) throws {
        if overwrite {
            throw TrainingError.badOption("--overwrite does not apply to shards: a finished shard is kept and a folder of other settings is refused; remove \(out) to start again")
        }
        if let status = try FileSystem.status(out), status.kind != .directory {
            throw TrainingError.badOption("--out \(out) is \(status.kind.rawValue); sharded (shard \(choice.shard) from \(choice.source)), --out names a folder")
        }
        try AtomicFile.checkFolderWritable(out)
    }

    /// "wrote OUT: N images x D features[ + extras][, K skipped]".
    public static func wroteLine(_ out: String, rows: Int, width: Int, settings: ExtractionSettings, skipped: Int) -> String {
        "wrote \(out): \(rows) images x \(width) features\(settings.extras)\(skipped == 0 ? "" : ", \(skipped) skipped")"
    }

    /// What a shard of `extract` says: what it wrote (or that it was done before), then how many
    /// of the folder `out`'s shards are finished.
    public static func shardLines(_ outcome: ShardedExtraction.Outcome, shard: Shard, out: String, width: Int, settings: ExtractionSettings) -> [String] {
        let skipped = outcome.skipped.isEmpty ? "" : ", \(outcome.skipped.count) skipped"
        let n = shard.count
        return [outcome.alreadyDone ? "shard \(shard) was already finished (\(outcome.path): \(outcome.rows) images\(skipped)); nothing to do"
                : wroteLine(outcome.path, rows: outcome.rows, width: width, settings: settings, skipped: outcome.skipped.count),
                outcome.finishedShards == n
                ? "all \(n) shards of \(out) are finished: read the folder directly (e.g. train-linear --features-file \(out)) or join it with `dinoprobe merge \(out) --out FILE`"
                : "\(outcome.finishedShards) of \(n) shards of \(out) are finished"]
    }
}

extension ExtractionSettings {
    /// What a features file holds besides CLS and mean-patch tokens, for messages.
    public var extras: String {
        (patchTokens ? " + patch tokens" : "") + (stages.isEmpty ? "" : " + stage maps \(stages.map(String.init).joined(separator: ","))")
    }
}
