/// Latents on the wire and on disk: little-endian IEEE half floats, as real video models keep them.
public enum LatentCodec {
    public static func encode(_ values: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * 2)
        bytes.withUnsafeMutableBufferPointer { out in
            for (i, value) in values.enumerated() {
                let bits = Float16(value).bitPattern
                out[2 * i] = UInt8(truncatingIfNeeded: bits)
                out[2 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            }
        }
        return bytes
    }

    /// Decodes `bytes`; throws when the count does not match `expectedCount` values.
    public static func decode(_ bytes: [UInt8], expectedCount: Int) throws -> [Float] {
        guard bytes.count == expectedCount * 2 else {
            throw ReelError(.artifact, "latents hold \(bytes.count) bytes, expected \(expectedCount * 2) (\(expectedCount) half floats)")
        }
        var values = [Float](repeating: 0, count: expectedCount)
        bytes.withUnsafeBufferPointer { input in
            for i in 0..<expectedCount {
                values[i] = Float(Float16(bitPattern: UInt16(input[2 * i]) | UInt16(input[2 * i + 1]) << 8))
            }
        }
        return values
    }
}
