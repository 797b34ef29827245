/// Which shard this process is: given on the command line, or read from what a scheduler puts
/// in the environment. Precedence, first match wins:
///
/// 1. `--shard I/N` (`--shard none` ignores the environment);
/// 2. a Slurm job array: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_MIN`/`_MAX`/`_STEP` and/or
///    `SLURM_ARRAY_TASK_COUNT` (inside an `srun` step of several tasks, each array task is split
///    again by `SLURM_PROCID`/`SLURM_NTASKS`);
/// 3. an `srun` step: `SLURM_PROCID`/`SLURM_NTASKS`, only when `SLURM_STEP_ID` is set (a batch
///    script has `SLURM_PROCID=0` and `SLURM_NTASKS` too, but runs once);
/// 4. a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`, with N from `--shards N`;
/// 5. `RANK`/`WORLD_SIZE` (torchrun and other launchers).
///
/// A count of 1 from the environment means "not sharded" unless `--shards` is given. `--shards N`
/// given with any source must agree with its count.
public enum ShardEnvironment {
    /// The shard and where it came from (for messages).
    public struct Choice: Sendable, Equatable {
        public let shard: Shard
        public let source: String
    }

    /// The shard of this process, or nil when the job is not sharded. `explicit` is `--shard`
    /// ("I/N" or "none"), `shards` is `--shards`.
    public static func resolve(explicit: String?, shards: Int?, environment env: [String: String]) throws(ShardError) -> Choice? {
        if explicit == "none" {
            if shards != nil { throw ShardError("--shard none turns sharding off; --shards contradicts it") }
            return nil
        }
        let found: Choice?
        if let explicit {
            found = Choice(shard: try Shard(parsing: explicit), source: "--shard")
        } else {
            found = try fromEnvironment(env, shards: shards)
        }
        guard let found else {
            if let shards { throw ShardError("--shards \(shards) needs this process's index: --shard I/\(shards), or run under a Slurm array, srun, a Kubernetes Indexed Job or RANK/WORLD_SIZE") }
            return nil
        }
        if let shards, shards != found.shard.count {
            throw ShardError("--shards \(shards) disagrees with \(found.source), which gives shard \(found.shard)")
        }
        return shards == nil && found.shard.count == 1 && explicit == nil ? nil : found
    }

    /// The first scheduler variables present, in the order above.
    static func fromEnvironment(_ env: [String: String], shards: Int?) throws(ShardError) -> Choice? {
        let step = try srunStep(env)
        if let array = try slurmArray(env) {
            guard let step, step.count > 1 else { return array }
            return Choice(shard: try Shard(index: array.shard.index * step.count + step.index, count: array.shard.count * step.count),
                          source: "SLURM_ARRAY_TASK_ID and SLURM_PROCID")
        }
        if let step { return Choice(shard: step, source: "SLURM_PROCID/SLURM_NTASKS") }
        if let index = env["JOB_COMPLETION_INDEX"] {
            guard let shards else {
                throw ShardError("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the shard count: pass --shards N (the Job's completions), or --shard none")
            }
            return Choice(shard: try Shard(index: try integer(index, "JOB_COMPLETION_INDEX"), count: shards), source: "JOB_COMPLETION_INDEX")
        }
        switch (env["RANK"], env["WORLD_SIZE"]) {
        case let (rank?, size?):
            return Choice(shard: try Shard(index: try integer(rank, "RANK"), count: try integer(size, "WORLD_SIZE")), source: "RANK/WORLD_SIZE")
        case (.some, nil), (nil, .some):
            throw ShardError("only one of RANK and WORLD_SIZE is set: set both, or pass --shard I/N (--shard none ignores the environment)")
        case (nil, nil):
            return nil
        }
    }

    /// The array task's position among the array's tasks (ids evenly spaced from MIN by STEP).
    static func slurmArray(_ env: [String: String]) throws(ShardError) -> Choice? {
        guard let idText = env["SLURM_ARRAY_TASK_ID"] else { return nil }
        let id = try integer(idText, "SLURM_ARRAY_TASK_ID")
        guard let minText = env["SLURM_ARRAY_TASK_MIN"] else { throw ShardError("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_MIN; pass --shard I/N") }
        let low = try integer(minText, "SLURM_ARRAY_TASK_MIN")
        let step = try env["SLURM_ARRAY_TASK_STEP"].map { text throws(ShardError) in try integer(text, "SLURM_ARRAY_TASK_STEP") } ?? 1
        guard step >= 1, id >= low, (id - low) % step == 0 else {
            throw ShardError("SLURM_ARRAY_TASK_ID \(id) is not MIN \(low) plus a multiple of STEP \(step); pass --shard I/N")
        }
        let spanned = try env["SLURM_ARRAY_TASK_MAX"].map { text throws(ShardError) in (try integer(text, "SLURM_ARRAY_TASK_MAX") - low) / step + 1 }
        let counted = try env["SLURM_ARRAY_TASK_COUNT"].map { text throws(ShardError) in try integer(text, "SLURM_ARRAY_TASK_COUNT") }
        if let spanned, let counted, spanned != counted {
            throw ShardError("the Slurm array's task ids are not evenly spaced (\(counted) tasks between \(low) and its MAX); use --array=0-\(counted - 1) or pass --shard I/N")
        }
        guard let count = counted ?? spanned else { throw ShardError("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_MAX or _COUNT; pass --shard I/N") }
        return Choice(shard: try Shard(index: (id - low) / step, count: count), source: "SLURM_ARRAY_TASK_ID")
    }

    /// The task of an `srun` step (nil outside one).
    static func srunStep(_ env: [String: String]) throws(ShardError) -> Shard? {
        guard env["SLURM_STEP_ID"] != nil, let rank = env["SLURM_PROCID"], let size = env["SLURM_NTASKS"] else { return nil }
        return try Shard(index: try integer(rank, "SLURM_PROCID"), count: try integer(size, "SLURM_NTASKS"))
    }

    static func integer(_ text: String, _ name: String) throws(ShardError) -> Int {
        guard let value = Int(text), value >= 0 else { throw ShardError("\(name)='\(text.prefix(40))' is not a whole number >= 0") }
        return value
    }
}
