import Foundation

/// Conversions between Float and the half-precision formats, bit for bit as PyTorch does.
public enum FloatConversion {
    /// bfloat16 bits to Float (exact).
    @inline(__always) public static func bf16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float to bfloat16 bits, rounding to nearest even (NaN stays NaN).
    @inline(__always) public static func floatToBF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return 0x7FC0 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// IEEE half bits to Float (exact).
    @inline(__always) public static func f16ToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 { return Float(mantissa) * Float(sign == 0 ? 1 : -1) / Float(1 << 24) }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }

    /// Float to IEEE half bits, rounding to nearest even.
    @inline(__always) public static func floatToF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let absValue = abs(value)
        if value.isNaN { return sign | 0x7E00 }
        if absValue >= 65520 { return sign | 0x7C00 }
        if absValue < 6.103515625e-05 {
            // Subnormal half: value / 2^-24 rounded to nearest even.
            let scaled = (absValue * Float(1 << 24)).rounded(.toNearestOrEven)
            return sign | UInt16(scaled)
        }
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        var mantissa = bits & 0x7F_FFFF
        var halfExponent = UInt32(exponent)
        let roundBit = (mantissa >> 12) & 1
        let sticky = (mantissa & 0xFFF) != 0
        let lsb = (mantissa >> 13) & 1
        mantissa >>= 13
        if roundBit == 1 && (sticky || lsb == 1) {
            mantissa += 1
            if mantissa == 0x400 { mantissa = 0; halfExponent += 1 }
        }
        return sign | UInt16(halfExponent << 10) | UInt16(mantissa)
    }

    /// Index of the first NaN or infinity among `count` values of `dtype`, or nil. Works on the
    /// bit patterns (an all-ones exponent), which vectorises well.
    public static func firstNonFinite(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int) -> Int? {
        func scan<T: FixedWidthInteger>(_: T.Type, mask: T) -> Int? {
            let stride = MemoryLayout<T>.size
            // A branch-free pass first (cheap on gigabytes of weights), then locate the culprit.
            var found: T = 0
            for i in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: i * stride, as: T.self)
                found |= (bits & mask) == mask ? 1 : 0
            }
            guard found != 0 else { return nil }
            return (0..<count).first { (raw.loadUnaligned(fromByteOffset: $0 * stride, as: T.self) & mask) == mask }
        }
        switch dtype {
        case .f32: return scan(UInt32.self, mask: 0x7F80_0000)
        case .f64: return scan(UInt64.self, mask: 0x7FF0_0000_0000_0000)
        case .f16: return scan(UInt16.self, mask: 0x7C00)
        case .bf16: return scan(UInt16.self, mask: 0x7F80)
        case .f8e5m2: return scan(UInt8.self, mask: 0x7C)
        case .f8e4m3: return (0..<count).first { raw[$0] & 0x7F == 0x7F }
        default: return nil
        }
    }

    /// Converts `count` little-endian values of `dtype` to Float; nil for the 8-bit float types.
    public static func toFloats(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int) -> [Float]? {
        if dtype == .f8e4m3 || dtype == .f8e5m2 { return nil }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            func convert<T: BitwiseCopyable>(_: T.Type, _ float: (T) -> Float) {
                for i in 0..<count { out[i] = float(raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            }
            switch dtype {
            case .f32: if let base = raw.baseAddress, count > 0 { memcpy(out.baseAddress!, base, count * 4) }
            case .bf16: convert(UInt16.self, bf16ToFloat)
            case .f16: convert(UInt16.self, f16ToFloat)
            case .f64: convert(Double.self) { Float($0) }
            case .i64: convert(Int64.self) { Float($0) }
            case .i32: convert(Int32.self) { Float($0) }
            case .i16: convert(Int16.self) { Float($0) }
            case .u64: convert(UInt64.self) { Float($0) }
            case .u32: convert(UInt32.self) { Float($0) }
            case .u16: convert(UInt16.self) { Float($0) }
            case .u8, .bool: convert(UInt8.self) { Float($0) }
            case .i8: convert(Int8.self) { Float($0) }
            case .f8e4m3, .f8e5m2: break
            }
            initialized = count
        }
    }
}
