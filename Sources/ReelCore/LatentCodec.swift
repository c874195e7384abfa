/// Latents on the wire and on disk: little-endian IEEE half floats, as real video models keep them.
public enum LatentCodec {
    public static func encode(_ values: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * 2)
        bytes.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { input in
                for i in 0..<input.count {
                    let bits = halfBits(input[i])
                    out[2 * i] = UInt8(truncatingIfNeeded: bits)
                    out[2 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                }
            }
        }
        return bytes
    }

    /// IEEE float to half with round-to-nearest-even, in integer arithmetic (F. Giesen's
    /// "fast3_rtne"): the same bits as `Float16(value)`, without the runtime's soft-float call.
    @inline(__always)
    public static func halfBits(_ value: Float) -> UInt16 {
        var x = value.bitPattern
        let sign = x & 0x8000_0000
        x ^= sign
        let out: UInt32
        if x >= 0x4780_0000 {
            out = x > 0x7f80_0000 ? 0x7e00 | ((x >> 13) & 0x3ff) : 0x7c00  // NaN keeps its top payload bits; else infinity
        } else if x < 0x3880_0000 {
            // Subnormal or zero: let the FPU round the 10 mantissa bits into place.
            let magic: UInt32 = ((127 - 15) + (23 - 10) + 1) << 23
            out = (Float(bitPattern: x) + Float(bitPattern: magic)).bitPattern &- magic
        } else {
            let odd = (x >> 13) & 1
            out = (x &+ (UInt32(bitPattern: Int32(15 - 127) << 23) &+ 0xfff) &+ odd) >> 13
        }
        return UInt16(truncatingIfNeeded: out | (sign >> 16))
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
