import Foundation
import Heads
import TestSupport
import SafeTensors
import XCTest

/// `dinoprobe info` and `dinoprobe extract` as a user runs them.
final class ExtractCLITests: XCTestCase {
    /// Help and version are answers, not errors: stdout, status 0, for every command.
    func testHelpAndVersionGoToStdoutWithStatusZero() throws {
        for args in [["--help"], ["--version"], ["train-seg", "--help"], ["help", "knn"], ["synth", "classification", "--help"],
                     ["bench", "grid", "--help"]] {
            let r = try CLI.run(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertFalse(r.stdout.isEmpty, "\(args)")
            XCTAssertFalse(r.stderr.contains("error"), "\(args): \(r.stderr)")
        }
    }

    func testInfoReportsArchitectureTokensComputeAndBLAS() throws {
        let r = try CLI.run(["info", "--model", CLI.tinyModel])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("196 patches + 1 CLS + 4 registers = 201"), r.stdout)
        XCTAssertTrue(r.stdout.contains("75,312"), r.stdout)
        XCTAssertTrue(r.stdout.contains("OpenBLAS core"), r.stdout)
        XCTAssertTrue(r.stdout.contains("FLOPs/image"), r.stdout)
        let wide = try CLI.run(["info", "--model", CLI.tinyModel, "--input", "224x448"])
        XCTAssertTrue(wide.stdout.contains("392 patches + 1 CLS + 4 registers = 397"), wide.stdout)
    }

    /// `OPENBLAS_CORETYPE` picks dinoprobe's own kernels too (`DINOPROBE_KERNELS` caps them
    /// directly), and every choice gives the same features within float rounding: the AVX-512 and
    /// AVX2 packed GEMMs, and libtorch's own linear when the cap is scalar.
    func testKernelChoiceFollowsTheCoreTypeAndKeepsTheFeatures() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var features: [(String, [Float])] = []
        for (name, environment) in [("automatic", [String: String]()), ("haswell", ["OPENBLAS_CORETYPE": "Haswell"]),
                                    ("scalar", ["DINOPROBE_KERNELS": "scalar"])] {
            let info = try CLI.run(["info", "--model", CLI.tinyModel], environment: environment)
            XCTAssertEqual(info.status, 0, info.stderr)
            let line = info.stdout.split(separator: "\n").first { $0.hasPrefix("dinoprobe kernels") }.map(String.init) ?? ""
            if name == "haswell" { XCTAssertTrue(line.contains("DINOPROBE_KERNELS=avx2"), line) }
            if name == "scalar" { XCTAssertTrue(line.contains("kernels     scalar"), line) }
            let out = dir.appendingPathComponent("\(name).safetensors").path
            let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", CLI.fixtureImages, "--out", out, "--size", "64"],
                                environment: environment)
            XCTAssertEqual(r.status, 0, r.stderr)
            features.append((name, try SafeTensorsFile(path: out).floats("cls")))
        }
        guard let (_, reference) = features.first else { return XCTFail("no features") }
        for (name, values) in features.dropFirst() {
            XCTAssertEqual(values.count, reference.count, name)
            let diff = zip(values, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(diff, 1e-4, "\(name) against the automatic choice")
        }
    }

    /// Started without OPENBLAS_CORETYPE and the OpenMP OpenBLAS on LD_LIBRARY_PATH (which the
    /// suite's other runs get up front: `CLI.childEnvironment`), dinoprobe sets both itself and
    /// re-executes once, so the fast kernels run.
    func testWithoutTheBLASSettingsDinoprobeSetsThemAndReexecutes() throws {
        let r = try CLI.shell("env -u OPENBLAS_CORETYPE -u DINOPROBE_CHOSE_CORETYPE -u DINOPROBE_NO_REEXEC -u DINOPROBE_KERNELS LD_LIBRARY_PATH= "
                              + "\"$DINOPROBE\" info --model '\(CLI.tinyModel)'")
        XCTAssertEqual(r.status, 0, r.stderr)
        if let core = FastBLAS.coreTypeForThisCPU() {
            XCTAssertTrue(r.stdout.contains("OPENBLAS_CORETYPE     \(core) (chosen by dinoprobe for this CPU)"), r.stdout)
        }
        if FileManager.default.fileExists(atPath: FastBLAS.openmpFolder + "/libopenblas.so.0") {
            XCTAssertTrue(r.stdout.contains("(" + FastBLAS.openmpFolder + "/"), r.stdout)
        }
    }

    func testMissingModelTellsHowToGetWeights() throws {
        let home = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let r = try CLI.run(["info"], environment: ["HOME": home.path, "HF_HOME": home.path, "DINOPROBE_MODEL": ""], in: home)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("request access"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }

    func testCUDAOnCPUBuildIsAClearError() throws {
        let r = try CLI.run(["info", "--model", CLI.tinyModel, "--device", "cuda"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--device cpu"), r.stderr)
    }

    func testExtractWritesAReadableFileAndSkipsBadImages() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images")
        try FileManager.default.copyItem(atPath: CLI.fixtureImages, toPath: images.path)
        try Data("not an image".utf8).write(to: images.appendingPathComponent("zz_bad.jpg"))
        let out = dir.appendingPathComponent("features.safetensors").path
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", images.path, "--out", out,
                             "--patch-tokens", "--layers", "2", "--batch-size", "4", "--size", "64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped") && r.stderr.contains("zz_bad.jpg"), r.stderr)
        XCTAssertTrue(r.stderr.contains("images/s"), r.stderr)
        let file = try SafeTensorsFile(path: out)
        let n = 11
        XCTAssertEqual(file.tensors["cls"]?.shape, [n, 48])
        XCTAssertEqual(file.tensors["mean_patch"]?.shape, [n, 48])
        XCTAssertEqual(file.tensors["layers_cls"]?.shape, [n, 2, 48])
        XCTAssertEqual(file.tensors["patch_tokens"]?.shape, [n, 4, 4, 48])
        XCTAssertEqual(file.tensors["registers"]?.shape, [n, 4, 48])
        let paths = try JSONSerialization.jsonObject(with: Data(file.metadata["paths"]!.utf8)) as! [String]
        XCTAssertEqual(paths.count, n)
        XCTAssertFalse(paths.contains { $0.hasSuffix("zz_bad.jpg") })
        XCTAssertTrue(file.metadata["skipped"]!.contains("zz_bad.jpg"))
        XCTAssertEqual(file.metadata["preset"], "hf")
        // The last entry of layers_cls is the final CLS.
        let cls = try file.floats("cls"), layers = try file.floats("layers_cls")
        XCTAssertEqual(Array(layers[48..<96]), Array(cls[0..<48]))
        // Nothing temporary is left beside the output.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testExtractWithNoReadableImageWritesNothing() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data().write(to: dir.appendingPathComponent("empty.png"))
        let out = dir.appendingPathComponent("f.safetensors").path
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", dir.path, "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertTrue(r.stderr.contains("empty"), r.stderr)
    }

    /// Meta's .pth runs as --model and converts to a folder that gives the same features (its
    /// periods are float32 here, so the recomputed ones agree); a second convert needs --overwrite.
    func testMetaPthExtractsAndConverts() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pth = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth").path
        let info = try CLI.run(["info", "--model", pth])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("Meta's layout") && info.stdout.contains("75,312"), info.stdout)
        let converted = dir.appendingPathComponent("converted").path
        let convert = try CLI.run(["convert", pth, "--out", converted])
        XCTAssertEqual(convert.status, 0, convert.stderr)
        XCTAssertTrue(convert.stdout.contains("41 tensors, 75,312 parameters"), convert.stdout)
        let again = try CLI.run(["convert", pth, "--out", converted])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--overwrite"), again.stderr)
        var cls: [[Float]] = []
        for (i, model) in [pth, converted].enumerated() {
            let out = dir.appendingPathComponent("f\(i).safetensors").path
            let r = try CLI.run(["extract", "--model", model, CLI.fixtureImages, "--out", out, "--size", "64"])
            XCTAssertEqual(r.status, 0, r.stderr)
            cls.append(try SafeTensorsFile(path: out).floats("cls"))
        }
        XCTAssertEqual(cls[0].count, 11 * 48)
        XCTAssertLessThanOrEqual(zip(cls[0], cls[1]).map { abs($0 - $1) }.max() ?? 1, 1e-4)
        let arch = try CLI.run(["info", "--model", converted, "--arch", "vits16"])
        XCTAssertTrue(arch.stderr.contains("applies to Meta's .pth files"), arch.stderr)
    }

    /// A ConvNeXt describes itself by stages and extracts its pooled feature as `cls`.
    func testConvNextInfoAndExtract() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/models/convnext_a").path
        let info = try CLI.run(["info", "--model", model, "--input", "64x96"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("widths 16/24/32/48, blocks 1/1/2/1"), info.stdout)
        XCTAssertTrue(info.stdout.contains("64x96 -> 2x3 map"), info.stdout)
        let out = dir.appendingPathComponent("f.safetensors").path
        let r = try CLI.run(["extract", "--model", model, CLI.fixtureImages, "--out", out, "--size", "64", "--patch-tokens"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try SafeTensorsFile(path: out)
        XCTAssertEqual(file.tensors["cls"]?.shape, [11, 48])
        XCTAssertEqual(file.tensors["patch_tokens"]?.shape, [11, 2, 2, 48])
    }

    func testBadOptionsAreClearErrors() throws {
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", CLI.fixtureImages, "--out", "/tmp/x.safetensors", "--size", "100"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--size is 100; it must be a multiple of 16"), r.stderr)
    }

    /// A size one image of which needs more activation memory than --memory-budget is refused
    /// before any image is read, with the figure it would need.
    func testASizeBeyondTheMemoryBudgetIsRefusedWithTheFigure() throws {
        let dir = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("f.safetensors").path
        let r = try CLI.run(["extract", "--model", CLI.tinyModel, "--images", CLI.fixtureImages, "--out", out, "--size", "4096", "--memory-budget", "64"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("one 4096x4096 image needs about") && r.stderr.contains(" GB for the backbone's activations, more than --memory-budget (64 MiB, 0.07 GB)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
