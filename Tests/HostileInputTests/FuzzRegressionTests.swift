import Foundation
import FuzzTargets
import TestSupport
import XCTest

/// Class 9: every input of the committed seed corpus and every crash the fuzzers ever found
/// (fuzz/regressions/<Target>/) goes through the same code as the fuzz targets. A trap or a
/// signal here ends the test run.
final class FuzzRegressionTests: XCTestCase {
    func testCorpusAndPastCrashesRunCleanly() throws {
        let fuzz = CLI.repoRoot.appendingPathComponent("fuzz")
        var count = 0
        for (name, run) in FuzzTargets.all {
            for folder in ["corpus", "regressions"] {
                let dir = fuzz.appendingPathComponent("\(folder)/\(name)")
                for file in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where !file.hasPrefix(".") {
                    run(try Data(contentsOf: dir.appendingPathComponent(file)))
                    count += 1
                }
            }
        }
        XCTAssertGreaterThan(count, 50)
        print("fuzz corpus and regressions: \(count) inputs replayed")
    }
}
