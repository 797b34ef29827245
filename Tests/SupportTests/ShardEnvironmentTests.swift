import Support
import XCTest

/// Which shard a process is, from the command line or from each scheduler's environment, and
/// how a listing splits.
final class ShardEnvironmentTests: XCTestCase {
    func resolve(_ env: [String: String], shard: String? = nil, shards: Int? = nil) throws -> String? {
        try ShardEnvironment.resolve(explicit: shard, shards: shards, environment: env).map { "\($0.shard) \($0.source)" }
    }

    func assertRefused(_ env: [String: String], shard: String? = nil, shards: Int? = nil, _ fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try resolve(env, shard: shard, shards: shards), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
        }
    }

    let array = ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4",
                 "SLURM_ARRAY_TASK_STEP": "1", "SLURM_PROCID": "0", "SLURM_NTASKS": "1"]
    let step = ["SLURM_STEP_ID": "0", "SLURM_PROCID": "2", "SLURM_NTASKS": "3"]

    func testEachSchedulerGivesItsShard() throws {
        XCTAssertNil(try resolve([:]))
        XCTAssertEqual(try resolve(array), "2/4 SLURM_ARRAY_TASK_ID")
        // Ids spaced by a step: --array=0-6:2 runs 0, 2, 4, 6.
        XCTAssertEqual(try resolve(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
                                    "SLURM_ARRAY_TASK_STEP": "2"]), "2/4 SLURM_ARRAY_TASK_ID")
        XCTAssertEqual(try resolve(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "8"]), "0/8 SLURM_ARRAY_TASK_ID")
        XCTAssertEqual(try resolve(step), "2/3 SLURM_PROCID/SLURM_NTASKS")
        XCTAssertEqual(try resolve(["JOB_COMPLETION_INDEX": "5"], shards: 6), "5/6 JOB_COMPLETION_INDEX")
        XCTAssertEqual(try resolve(["RANK": "1", "WORLD_SIZE": "2"]), "1/2 RANK/WORLD_SIZE")
        XCTAssertEqual(try resolve([:], shard: "3/8"), "3/8 --shard")
    }

    func testPrecedence() throws {
        let everything = array.merging(["JOB_COMPLETION_INDEX": "0", "RANK": "0", "WORLD_SIZE": "9"]) { a, _ in a }
        XCTAssertEqual(try resolve(everything, shard: "1/2"), "1/2 --shard", "the command line first")
        XCTAssertNil(try resolve(everything, shard: "none"), "--shard none ignores the environment")
        XCTAssertEqual(try resolve(everything), "2/4 SLURM_ARRAY_TASK_ID", "the array before RANK and the Indexed Job")
        // A batch script has SLURM_PROCID and SLURM_NTASKS but runs once: without SLURM_STEP_ID they are not a split.
        XCTAssertNil(try resolve(["SLURM_PROCID": "0", "SLURM_NTASKS": "4"]))
        XCTAssertEqual(try resolve(["SLURM_PROCID": "0", "SLURM_NTASKS": "4", "RANK": "1", "WORLD_SIZE": "2"]), "1/2 RANK/WORLD_SIZE")
        XCTAssertEqual(try resolve(step.merging(["RANK": "0", "WORLD_SIZE": "2", "JOB_COMPLETION_INDEX": "1"]) { a, _ in a }, shards: 3),
                       "2/3 SLURM_PROCID/SLURM_NTASKS", "srun before the Indexed Job and RANK")
        XCTAssertEqual(try resolve(["JOB_COMPLETION_INDEX": "1", "RANK": "0", "WORLD_SIZE": "4"], shards: 4), "1/4 JOB_COMPLETION_INDEX")
        // An srun step of 3 tasks inside array task 2 of 4: 12 shards.
        XCTAssertEqual(try resolve(array.merging(step) { _, b in b }), "8/12 SLURM_ARRAY_TASK_ID and SLURM_PROCID")
    }

    func testACountOfOneIsNotShardedUnlessAsked() throws {
        XCTAssertNil(try resolve(["RANK": "0", "WORLD_SIZE": "1"]))
        XCTAssertNil(try resolve(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "0"]))
        XCTAssertEqual(try resolve(["RANK": "0", "WORLD_SIZE": "1"], shards: 1), "0/1 RANK/WORLD_SIZE")
        XCTAssertEqual(try resolve([:], shard: "0/1"), "0/1 --shard")
    }

    func testInconsistentOrMalformedSettingsAreClearErrors() {
        assertRefused([:], shard: "2/2", "does not exist among 2")
        assertRefused([:], shard: "1-4", "write I/N")
        assertRefused([:], shard: "0/0", "1 to 100000 shards")
        assertRefused([:], shard: "0/4", shards: 8, "disagrees with --shard")
        assertRefused(array, shards: 3, "disagrees with SLURM_ARRAY_TASK_ID")
        assertRefused([:], shards: 4, "needs this process's index")
        assertRefused(["JOB_COMPLETION_INDEX": "2"], "pass --shards N")
        assertRefused(["JOB_COMPLETION_INDEX": "4"], shards: 4, "does not exist among 4")
        assertRefused(["RANK": "1"], "only one of RANK and WORLD_SIZE")
        assertRefused(["RANK": "x", "WORLD_SIZE": "2"], "RANK='x' is not a whole number")
        assertRefused(["RANK": "-1", "WORLD_SIZE": "2"], "RANK='-1'")
        // --array=1,5,7: three tasks, not evenly spaced.
        assertRefused(["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "7", "SLURM_ARRAY_TASK_COUNT": "3"],
                      "not evenly spaced")
        assertRefused(["SLURM_ARRAY_TASK_ID": "3"], "without SLURM_ARRAY_TASK_MIN")
        assertRefused(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_MAX": "6"],
                      "multiple of STEP")
        assertRefused([:], shard: "none", shards: 2, "contradicts")
    }

    /// Shards are contiguous runs of whole batches, cover the listing exactly once, in order.
    func testSplitCoversTheListingInWholeBatches() throws {
        for (items, batch, count) in [(101, 8, 4), (100, 1, 7), (5, 8, 3), (0, 4, 2), (1000, 32, 16), (64, 32, 2)] {
            let ranges = try (0..<count).map { try Shard(index: $0, count: count).range(items: items, alignment: batch) }
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, items)
            for (earlier, later) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(earlier.upperBound, later.lowerBound) }
            for r in ranges.dropLast() { XCTAssertEqual(r.upperBound % batch == 0 || r.upperBound == items, true, "\(ranges)") }
            let batches = ranges.map { ($0.count + batch - 1) / batch }
            XCTAssertLessThanOrEqual((batches.max() ?? 0) - (batches.min() ?? 0), 1, "as even as whole batches allow: \(ranges)")
        }
        XCTAssertEqual(try Shard(index: 1, count: 4).range(items: 101, alignment: 8), 24..<48)
        XCTAssertEqual(try Shard(index: 2, count: 3).range(items: 5, alignment: 8), 0..<5)
        XCTAssertEqual(try Shard(index: 0, count: 3).range(items: 5, alignment: 8), 0..<0)
        // A hostile item count (from a manifest) cannot overflow the arithmetic.
        XCTAssertEqual(try Shard(index: 99_999, count: 100_000).range(items: .max, alignment: 4096).upperBound, .max)
    }
}
