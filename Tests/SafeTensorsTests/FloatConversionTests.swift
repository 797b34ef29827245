import SafeTensors
import XCTest

/// Half-precision conversions, bit for bit as PyTorch (IEEE round to nearest, ties to even).
final class FloatConversionTests: XCTestCase {
    func testEveryHalfValueRoundTrips() {
        for bits in UInt16.min...UInt16.max {
            let value = FloatConversion.f16ToFloat(bits)
            if value.isNaN {
                XCTAssertTrue(FloatConversion.f16ToFloat(FloatConversion.floatToF16(value)).isNaN)
            } else {
                XCTAssertEqual(FloatConversion.floatToF16(value), bits, "f16 \(String(bits, radix: 16))")
            }
            let b = FloatConversion.bf16ToFloat(bits)
            if b.isNaN {
                XCTAssertTrue(FloatConversion.bf16ToFloat(FloatConversion.floatToBF16(b)).isNaN)
            } else {
                XCTAssertEqual(FloatConversion.floatToBF16(b), bits, "bf16 \(String(bits, radix: 16))")
            }
        }
    }

    func testRoundingTiesToEvenOverflowAndSubnormals() {
        let f16: [(Float, UInt16)] = [
            (1, 0x3C00), (-2, 0xC000), (65504, 0x7BFF), (65519, 0x7BFF), (65520, 0x7C00), (1e10, 0x7C00),
            (-0.0, 0x8000), (Float(1) / Float(1 << 24), 0x0001),      // smallest subnormal
            (Float(1) / Float(1 << 25), 0x0000),                       // half of it: ties to even, 0
            (3 * Float(1) / Float(1 << 25), 0x0002),                   // 1.5 ulp: ties to even, 2
            (1 + Float(1) / Float(1 << 11), 0x3C00),                   // tie between 1 and its successor
            (1 + 3 * Float(1) / Float(1 << 11), 0x3C02),               // tie, rounds to the even one above
            (1 + 3 * Float(1) / Float(1 << 12), 0x3C01),               // above the tie: rounds up
            (Float.infinity, 0x7C00), (-Float.infinity, 0xFC00),
        ]
        for (value, bits) in f16 {
            XCTAssertEqual(FloatConversion.floatToF16(value), bits, "f16(\(value))")
        }
        let bf16: [(Float, UInt16)] = [
            (1, 0x3F80), (1 + Float(1) / 256, 0x3F80), (1 + 3 * Float(1) / 256, 0x3F82), (1 + 3 * Float(1) / 512, 0x3F81),
            (Float.greatestFiniteMagnitude, 0x7F80), (-0.0, 0x8000), (Float.infinity, 0x7F80),
        ]
        for (value, bits) in bf16 {
            XCTAssertEqual(FloatConversion.floatToBF16(value), bits, "bf16(\(value))")
        }
        XCTAssertTrue(FloatConversion.f16ToFloat(FloatConversion.floatToF16(.nan)).isNaN)
        XCTAssertTrue(FloatConversion.bf16ToFloat(FloatConversion.floatToBF16(.nan)).isNaN)
    }

    func testNonFiniteScanFindsTheFirstOne() {
        var values: [Float] = (0..<1000).map { Float($0) }
        XCTAssertNil(values.withUnsafeBytes { FloatConversion.firstNonFinite($0, dtype: .f32, count: 1000) })
        values[731] = .nan
        values[900] = .infinity
        XCTAssertEqual(values.withUnsafeBytes { FloatConversion.firstNonFinite($0, dtype: .f32, count: 1000) }, 731)
        let halves: [UInt16] = [0x3C00, 0x7C00, 0x3C00]
        XCTAssertEqual(halves.withUnsafeBytes { FloatConversion.firstNonFinite($0, dtype: .f16, count: 3) }, 1)
        let brains: [UInt16] = [0x3F80, 0x3F80, 0x7FC0]
        XCTAssertEqual(brains.withUnsafeBytes { FloatConversion.firstNonFinite($0, dtype: .bf16, count: 3) }, 2)
    }

    func testToFloatsReadsEveryStoredType() {
        func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
        let cases: [(SafeTensorsDType, [UInt8], [Float])] = [
            (.f32, bytes([Float(1.5), -2]), [1.5, -2]), (.f64, bytes([1.5, -2.0]), [1.5, -2]),
            (.bf16, bytes([UInt16(0x3FC0), 0xC000]), [1.5, -2]), (.f16, bytes([UInt16(0x3E00), 0xC000]), [1.5, -2]),
            (.i64, bytes([Int64(3), -2]), [3, -2]), (.i32, bytes([Int32(3), -2]), [3, -2]), (.i16, bytes([Int16(3), -2]), [3, -2]),
            (.i8, bytes([Int8(3), -2]), [3, -2]), (.u64, bytes([UInt64(3), 1 << 40]), [3, 0x1p40]),
            (.u32, bytes([UInt32(3), 70_000]), [3, 70_000]), (.u16, bytes([UInt16(3), 65_535]), [3, 65_535]),
            (.u8, [3, 255], [3, 255]), (.bool, [1, 0], [1, 0]),
        ]
        for (dtype, raw, expected) in cases {
            XCTAssertEqual(raw.withUnsafeBytes { FloatConversion.toFloats($0, dtype: dtype, count: 2) }, expected, "\(dtype)")
        }
        XCTAssertNil([UInt8](repeating: 0, count: 2).withUnsafeBytes { FloatConversion.toFloats($0, dtype: .f8e4m3, count: 2) })
    }
}
