import Foundation
import TestSupport
import XCTest

/// The sharded extraction on a real Slurm (`scripts/slurm-smoke`: single-node slurmctld, slurmd
/// and munge started for the test, the examples/slurm array job, checked against one process).
/// It runs only where the daemons can start (root, slurm-wlm and munge installed); elsewhere it
/// is skipped with the reason.
final class SlurmSmokeTests: XCTestCase {
    func testExampleArrayJobOnARealSlurmEqualsOneProcess() throws {
        if ProcessInfo.processInfo.environment["DINOPROBE_SLURM_SMOKE"] == "script" {
            throw XCTSkip("scripts/test runs scripts/slurm-smoke itself, after the suite")
        }
        let r = try CLI.shell("bash '\(CLI.repoRoot.path)/scripts/slurm-smoke'")
        print(r.stdout)
        if r.status == 77 { throw XCTSkip(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("PASSED"), r.stdout)
    }
}
