import Foundation

/// Bytes of safetensors files, well-formed or deliberately not.
enum Bytes {
    /// A file with the given raw header text and data section (the length field is the header's).
    static func safetensors(header: String, data: Data = Data(), declaredLength: UInt64? = nil) -> Data {
        var header = Data(header.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var length = (declaredLength ?? UInt64(header.count)).littleEndian
        var out = Data(bytes: &length, count: 8)
        out.append(header)
        out.append(data)
        return out
    }

    /// One F32 tensor entry's JSON.
    static func entry(_ name: String, shape: [Int], offsets: (Int, Int), dtype: String = "F32") -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(offsets.0),\(offsets.1)]}"
    }

    static func floats(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }
}
