import Foundation
import SafeTensors
import Support
import XCTest

/// The safetensors writer and reader: every dtype round-trips, streamed payloads, metadata,
/// the format's layout (length, padding, order), and the writer's refusals.
final class SafeTensorsTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dinoprobe-st-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func testRoundTripOfEveryWrittenType() throws {
        let values: [Float] = [0, 1, -2.5, 65504, 1e-3, 3.14159]
        let spool = folder + "/spool.bin"
        try Data([1, 2, 3, 4, 5, 6, 7, 8]).write(to: URL(fileURLWithPath: spool))
        var writer = SafeTensorsWriter(metadata: ["k": "v", "unicode": "café ✓"])
        try writer.add("f32", floats: values, shape: [2, 3])
        try writer.add("f16", floats: values, shape: [6], dtype: .f16)
        try writer.add("bf16", floats: values, shape: [3, 2], dtype: .bf16)
        try writer.add("i64", int64s: [Int64.min, -1, 0, Int64.max], shape: [4])
        try writer.add("u8", bytes: [0, 127, 255], shape: [3])
        try writer.add("empty", floats: [], shape: [0, 4])
        try writer.addFile("streamed", dtype: .u8, shape: [2, 4], path: spool)
        let path = folder + "/all.safetensors"
        try writer.write(to: path)

        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.metadata, ["k": "v", "unicode": "café ✓"])
        XCTAssertEqual(file.names, ["f32", "f16", "bf16", "i64", "u8", "empty", "streamed"])
        XCTAssertEqual(try file.floats("f32"), values)
        XCTAssertEqual(try file.floats("f16"), values.map { FloatConversion.f16ToFloat(FloatConversion.floatToF16($0)) })
        XCTAssertEqual(try file.floats("bf16"), values.map { FloatConversion.bf16ToFloat(FloatConversion.floatToBF16($0)) })
        XCTAssertEqual(file.tensors["bf16"]?.shape, [3, 2])
        XCTAssertEqual(try file.ints("i64"), [Int64.min, -1, 0, Int64.max])
        XCTAssertEqual(try file.ints("u8"), [0, 127, 255])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.ints("streamed"), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertThrowsError(try file.floats("nope")) { XCTAssertTrue("\($0)".contains("no tensor named 'nope'")) }
        XCTAssertThrowsError(try file.ints("f32")) { XCTAssertTrue("\($0)".contains("dtype F32")) }

        // The layout: an 8-byte little-endian length, a space-padded header of a multiple of 8
        // bytes, then the tensors back to back in the order they were added.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = bytes.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(length % 8, 0)
        XCTAssertEqual(bytes.count, 8 + length + 24 + 12 + 12 + 32 + 3 + 0 + 8)
        XCTAssertEqual(file.tensors["f32"]?.begin, 0)
        XCTAssertEqual(file.tensors["streamed"]?.end, 91)
    }

    func testTheFiniteCheckReadsTheElementsAskedForAndNamesTheFirstBadOne() throws {
        var writer = SafeTensorsWriter()
        try writer.add("f32", floats: [1, 2, .nan, 4, .infinity, 6], shape: [3, 2])
        try writer.add("f16", floats: [1, 2, 3, .infinity], shape: [4], dtype: .f16)
        let path = folder + "/nonfinite.safetensors"
        try writer.write(to: path)
        let file = try SafeTensorsFile(path: path)
        XCTAssertNoThrow(try file.checkFinite("f32", elements: 0..<2))
        XCTAssertNoThrow(try file.checkFinite("f32", elements: 5..<6))
        XCTAssertNoThrow(try file.checkFinite("f16", elements: 0..<3))
        XCTAssertThrowsError(try file.checkFinite("f32")) { XCTAssertEqual($0 as? SafeTensorsError, .nonFinite(path: path, name: "f32", index: 2)) }
        XCTAssertThrowsError(try file.checkFinite("f32", elements: 3..<6)) { XCTAssertEqual($0 as? SafeTensorsError, .nonFinite(path: path, name: "f32", index: 4)) }
        XCTAssertThrowsError(try file.checkFinite("f16", elements: 1..<4)) { XCTAssertEqual($0 as? SafeTensorsError, .nonFinite(path: path, name: "f16", index: 3)) }
        XCTAssertThrowsError(try file.checkFinite("f32", elements: 4..<7)) { XCTAssertTrue("\($0)".contains("no elements 4..<7")) }
    }

    func testTheWriterRefusesWhatItCannotWrite() throws {
        var writer = SafeTensorsWriter()
        XCTAssertThrowsError(try writer.add("a", floats: [1, 2, 3], shape: [2, 2])) { XCTAssertTrue("\($0)".contains("does not match 3 values")) }
        XCTAssertThrowsError(try writer.add("a", floats: [1], shape: [-1])) { XCTAssertTrue("\($0)".contains("is invalid")) }
        XCTAssertThrowsError(try writer.add("a", floats: [1], shape: [Int.max, 2])) { XCTAssertTrue("\($0)".contains("is invalid")) }
        try writer.add("a", floats: [1], shape: [1])
        XCTAssertThrowsError(try writer.add("a", floats: [1], shape: [1])) { XCTAssertTrue("\($0)".contains("used twice")) }
        XCTAssertThrowsError(try writer.add("__metadata__", floats: [1], shape: [1]))
        // A streamed file whose size does not match its shape fails before anything is written.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/short.bin"))
        try writer.addFile("s", dtype: .u8, shape: [4], path: folder + "/short.bin")
        XCTAssertThrowsError(try writer.write(to: folder + "/x.safetensors")) { XCTAssertTrue("\($0)".contains("it has 3 bytes")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.safetensors"))
    }

    func testAFileWrittenByPythonSafetensorsReads() throws {
        // Bytes as safetensors' Python writer lays them out (header sorted, no metadata).
        let header = #"{"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        data.append(Data(bytes: &length, count: 8))
        data.append(Data(header.utf8))
        var a = 2.5.bitPattern.littleEndian
        data.append(Data(bytes: &a, count: 8))
        data.append(contentsOf: [0x00, 0x3C, 0x00, 0xC0])  // 1.0, -2.0 in f16
        let file = try SafeTensorsFile(bytes: data, path: "python")
        XCTAssertEqual(try file.floats("a"), [2.5])
        XCTAssertEqual(try file.floats("b"), [1, -2])
        XCTAssertEqual(file.names, ["a", "b"])
    }
}
