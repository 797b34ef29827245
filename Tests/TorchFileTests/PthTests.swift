import Foundation
import TestSupport
import TorchFile
import XCTest

/// Hostile PyTorch checkpoints, built here opcode by opcode and record by record: nothing in a
/// pickle is ever called beyond the allowlist, no size or offset escapes its storage, no zip
/// name is taken as a path, and damaged files are refused quickly, never crash.
final class PthTests: HostileTestCase {
    let fixture = CLI.repoRoot.appendingPathComponent("Tests/BackboneTests/Fixtures/pth/dinov3_gelu_reg4.pth").path

    func read(_ data: Data) throws -> TorchCheckpointFile { try TorchCheckpointFile(bytes: data, path: "hostile.pth") }

    /// A program that ends by storing `body`'s result as the state dict's only entry.
    func program(_ body: (inout PickleProgram) -> Void) -> [UInt8] {
        var p = PickleProgram()
        p.emptyDict(); p.mark(); p.string("x")
        body(&p)
        p.setItems(); p.stop()
        return p.bytes
    }

    /// One F32 storage "0" of `count` zero elements.
    func storage(_ count: Int) -> [(String, [UInt8])] { [("archive/data/0", [UInt8](repeating: 0, count: count * 4))] }

    func testUnknownGlobalsAreNeverLoaded() throws {
        let marker = temp + "/pwned"
        var p = PickleProgram()
        p.global("os", "system"); p.mark(); p.string("touch \(marker)"); p.tuple(); p.reduce(); p.stop()
        assertRefused(try read(TorchSave.archive(p.bytes)), ["'os.system'", "never loads or calls"])
        var stacked = PickleProgram()
        stacked.string("builtins"); stacked.string("eval"); stacked.op(0x93); stacked.mark(); stacked.string("1"); stacked.tuple(); stacked.reduce(); stacked.stop()
        assertRefused(try read(TorchSave.archive(stacked.bytes)), ["'builtins.eval'"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testReduceOnlyCallsTheAllowedRebuilders() throws {
        let storageCall = program { p in p.global("torch", "FloatStorage"); p.emptyTuple(); p.reduce() }
        assertRefused(try read(TorchSave.archive(storageCall)), ["REDUCE on the F32 storage type"])
        let onString = program { p in p.string("os.system"); p.emptyTuple(); p.reduce() }
        assertRefused(try read(TorchSave.archive(onString)), ["REDUCE on a string"])
        let withArguments = program { p in p.global("collections", "OrderedDict"); p.mark(); p.int(1); p.tuple(); p.reduce() }
        assertRefused(try read(TorchSave.archive(withArguments)), ["OrderedDict is called with arguments"])
        for code: UInt8 in [0x69, 0x6F, 0x81, 0x82, 0x50, 0x92] {  // INST, OBJ, NEWOBJ, EXT1, PERSID, NEWOBJ_EX
            var p = PickleProgram()
            p.op(code, [0x41, 0x0A, 0x42, 0x0A]); p.stop()
            assertRefused(try read(TorchSave.archive(p.bytes)), ["is not allowed in a checkpoint"])
        }
    }

    func testViewsMustStayInsideTheirStorage() throws {
        let past = program { p in p.tensor(key: "0", count: 8, offset: 6, shape: [4]) }
        assertRefused(try read(TorchSave.archive(past, storages: storage(8))), ["reaches past the end of its 8-element storage"])
        let strided = program { p in p.tensor(key: "0", count: 8, shape: [3, 3], stride: [3, 1]) }
        assertRefused(try read(TorchSave.archive(strided, storages: storage(8))), ["reaches past the end"])
        let emptyFar = program { p in p.tensor(key: "0", count: 8, offset: 9, shape: [0]) }
        assertRefused(try read(TorchSave.archive(emptyFar, storages: storage(8))), ["offset 9 lies past the end"])
        let expanded = program { p in p.tensor(key: "0", count: 1, shape: [1 << 30], stride: [0]) }
        assertRefused(try read(TorchSave.archive(expanded, storages: storage(1))), ["a strided view larger than its storage"])
    }

    func testHugeDeclaredSizesAreRefusedBeforeAnyAllocation() throws {
        let overflow = program { p in p.tensor(key: "0", count: 8, shape: [1 << 40, 1 << 40], stride: [1, 1]) }
        assertRefused(try read(TorchSave.archive(overflow, storages: storage(8))), ["overflow"])
        let declared = program { p in p.tensor(key: "0", count: 1 << 60, shape: [1]) }
        assertRefused(try read(TorchSave.archive(declared, storages: storage(8))), ["declares \(1 << 60) F32 elements", "holds 32 bytes"])
        let hugeInt = program { p in p.op(0x8A, [9] + [UInt8](repeating: 0xFF, count: 9)) }
        assertRefused(try read(TorchSave.archive(hugeInt)), ["an integer of 9 bytes"])
        let hugeString = program { p in p.op(0x58, [0xFF, 0xFF, 0xFF, 0x7F]) }
        assertRefused(try read(TorchSave.archive(hugeString)), ["truncated"])
        let negative = program { p in p.tensor(key: "0", count: -1, shape: [1]) }
        assertRefused(try read(TorchSave.archive(negative, storages: storage(8))), ["negative size"])
    }

    func testContainersCannotNestDeeplyOrContainThemselves() throws {
        let deep = program { p in
            for _ in 0..<40 { p.emptyList() }
            for _ in 0..<39 { p.append() }
        }
        assertRefused(try read(TorchSave.archive(deep)), ["nested more than 32 deep"])
        let cycle = program { p in p.emptyList(); p.put(0); p.get(0); p.append() }
        assertRefused(try read(TorchSave.archive(cycle)), ["contains itself"])
        let later = program { p in p.emptyList(); p.put(0); p.emptyList(); p.get(0); p.append(); p.get(0); p.emptyList(); p.append() }
        assertRefused(try read(TorchSave.archive(later)), ["changed after it was placed"])
        let missing = program { p in p.get(7) }
        assertRefused(try read(TorchSave.archive(missing)), ["memo fetch of an entry never stored"])
        var duplicate = PickleProgram()
        duplicate.emptyDict(); duplicate.mark(); duplicate.string("a"); duplicate.int(1); duplicate.string("a"); duplicate.int(2)
        duplicate.setItems(); duplicate.stop()
        assertRefused(try read(TorchSave.archive(duplicate.bytes)), ["'a' appears twice"])
    }

    func testOnlyStateDictsOfTensorsAreAccepted() throws {
        var list = PickleProgram()
        list.emptyList(); list.stop()
        assertRefused(try read(TorchSave.archive(list.bytes)), ["holds a list, not a state dict"])
        let nested = program { p in p.emptyDict() }
        assertRefused(try read(TorchSave.archive(nested)), ["'x' holds a dict, not a tensor", "training checkpoint"])
        var leftovers = PickleProgram()
        leftovers.emptyDict(); leftovers.emptyDict(); leftovers.stop()
        assertRefused(try read(TorchSave.archive(leftovers.bytes)), ["2 values on its stack"])
    }

    func testZipNamesAreNeverPaths() throws {
        let tensors = [TorchSave.Saved("w", [1, 2], [2])]
        let good = TorchSave.stateDict(tensors)
        XCTAssertEqual(try read(good).floats("w"), [1, 2])
        for bad in ["../archive/data.pkl", "/archive/data.pkl", "archive/../../data.pkl", "archive\\data.pkl", "archive//data.pkl", "archive/./x"] {
            let zip = TorchSave.zip([("archive/data.pkl", [0x80, 2, 0x7D, 0x2E]), (bad, [1])])
            assertRefused(try read(zip), ["is not a plain relative path"])
        }
        let twice = TorchSave.zip([("archive/data.pkl", [0x80, 2, 0x7D, 0x2E]), ("archive/x", [1]), ("archive/x", [2])])
        assertRefused(try read(twice), ["appears twice"])
        let compressed = TorchSave.zip([("archive/data.pkl", [0x80, 2, 0x7D, 0x2E])], method: 8)
        assertRefused(try read(compressed), ["is compressed (method 8)"])
        let traversalKey = program { p in p.tensor(key: "../0", count: 1, shape: [1]) }
        assertRefused(try read(TorchSave.archive(traversalKey, storages: storage(1))), ["not a short plain name"])
    }

    func testZIP64StridedViewsAndBF16AreRead() throws {
        let strided = program { p in p.tensor(storage: "BFloat16Storage", key: "0", count: 6, offset: 1, shape: [2, 2], stride: [1, 2]) }
        let values: [Float] = [9, 1, 2, 3, 4, 9]
        let bytes = values.map { $0.bitPattern >> 16 }.map(UInt16.init).withUnsafeBytes { Array($0) }
        let file = try read(TorchSave.archive(strided, storages: [("archive/data/0", bytes)], zip64: true))
        XCTAssertEqual(file.tensors["x"]?.isContiguous, false)
        XCTAssertEqual(try file.floats("x"), [1, 3, 2, 4])
    }

    /// What torch.save itself writes (fuzz/corpus/Pth, from scripts/make_fuzz_corpus.py):
    /// protocols 2 and 4, BF16 and F16, views sharing one storage, an OrderedDict's _metadata.
    func testTorchSaveOutputIsRead() throws {
        let corpus = CLI.repoRoot.appendingPathComponent("fuzz/corpus/Pth")
        for name in ["state-dict", "protocol4"] {
            let file = try TorchCheckpointFile(path: corpus.appendingPathComponent(name).path)
            XCTAssertEqual(file.names, ["a", "b", "h"], name)
            XCTAssertEqual(try file.floats("a"), [0, 1, 2, 3, 4, 5], name)
            XCTAssertEqual(file.tensors["a"]?.shape, [2, 3], name)
            XCTAssertEqual(try file.floats("b"), [1.5, -2], name)
            XCTAssertEqual(file.tensors["b"]?.dtype, .bf16, name)
            XCTAssertEqual(try file.floats("h"), [0.25], name)
        }
        let views = try TorchCheckpointFile(path: corpus.appendingPathComponent("views").path)
        XCTAssertEqual(try views.floats("t"), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        XCTAssertEqual(try views.floats("s"), [2, 3, 4])
        XCTAssertEqual(views.tensors["e"]?.shape, [0, 3])
        let nan = try TorchCheckpointFile(path: corpus.appendingPathComponent("nan").path)
        XCTAssertThrowsError(try nan.checkFinite("w"))
    }

    func testDamagedContainersAreRefused() throws {
        let good = TorchSave.stateDict([TorchSave.Saved("w", [1, 2, 3], [3])])
        var flipped = [UInt8](good)
        flipped[60] ^= 0x01  // inside data.pkl
        assertRefused(try read(Data(flipped)), ["fails its checksum"])
        let bigEndian = TorchSave.zip([("archive/data.pkl", [0x80, 2, 0x7D, 0x2E]), ("archive/byteorder", Array("big".utf8))])
        assertRefused(try read(bigEndian), ["big-endian"])
        assertRefused(try read(Data("not a zip at all, but long enough to look".utf8)), ["no zip end record"])
        let noPickle = TorchSave.zip([("archive/data/0", [1, 2, 3, 4])])
        assertRefused(try read(noPickle), ["holds no data.pkl"])
        let noStorage = program { p in p.tensor(key: "3", count: 1, shape: [1]) }
        assertRefused(try read(TorchSave.archive(noStorage)), ["storage '3' has no data/3 record"])
    }

    /// The real fixture cut at 200 points (and at every byte of its last 300): each a clean refusal.
    func testTruncatedFilesAreRefused() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture))
        XCTAssertNoThrow(try read(data))
        let cuts = Set((0..<200).map { data.count * $0 / 200 } + ((data.count - 300)..<data.count))
        for cut in cuts.sorted() {
            XCTAssertThrowsError(try read(data.prefix(cut)), "cut at \(cut) of \(data.count)")
        }
    }
}
