import Foundation
import TestSupport
import XCTest

/// Options are parsed strictly and explained in their own terms: no silent partial parse, no
/// range error that reads as nonsense, no Swift struct dumps in --help.
final class OptionParsingCLITests: XCTestCase {
    /// `info --input abcx32` was silently 32x32: every part must be a whole number.
    func testInfoInputIsParsedStrictly() throws {
        for bad in ["abcx32", "32x", "32x32x32", "0"] {
            let r = try CLI.run(["info", "--model", CLI.tinyModel, "--input", bad])
            XCTAssertNotEqual(r.status, 0, bad)
            XCTAssertTrue(r.stderr.contains("--input is '\(bad)'"), "\(bad): \(r.stderr)")
        }
        let good = try CLI.run(["info", "--model", CLI.tinyModel, "--input", "32x48"])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.contains("32x48 -> 2x3 patches"), good.stdout)
    }

    /// `--layers 0` (one value: the old spelling of --blocks N, rewritten by the table) is refused as --blocks 0.
    func testASingleLayerOutOfRangeIsExplained() throws {
        for command in ["train-linear", "train-logreg", "fewshot"] {
            let r = try CLI.run([command, "--layers", "0", "--data", "/nonexistent"])
            XCTAssertNotEqual(r.status, 0, command)
            XCTAssertTrue(r.stderr.contains("note: --layers N is deprecated; use --blocks N"), "\(command): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--blocks is 0; it must be in 1...1024"), "\(command): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("last 0"), r.stderr)
        }
        let extract = try CLI.run(["extract", "/nonexistent", "--out", "/nonexistent/x", "--layers", "0"])
        XCTAssertTrue(extract.stderr.contains("--blocks is 0"), extract.stderr)
    }

    /// No help shows a Swift value dump (`CommaList<Double>(values: ...)`): the commands with
    /// comma-list options show their defaults as typed.
    func testHelpShowsDefaultsAsTyped() throws {
        for command in ["fewshot", "knn", "train-linear", "train-logreg", "train-seg", "bench backbone"] {
            let r = try CLI.run(command.split(separator: " ").map(String.init) + ["--help"])
            XCTAssertEqual(r.status, 0, command)
            XCTAssertFalse(r.stdout.contains("CommaList") || r.stdout.contains("values: ["), "\(command): \(r.stdout)")
            if command == "fewshot" { XCTAssertTrue(r.stdout.contains("1,2,5,10)"), r.stdout) }
        }
    }
}
