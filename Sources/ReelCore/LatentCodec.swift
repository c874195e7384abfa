/// Latents on the wire and on disk: little-endian IEEE half floats, as real video models keep them.
public enum LatentCodec {
    public static func encode(_ values: [Float]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count * 2) { out, initialized in
            let raw = UnsafeMutableRawBufferPointer(out)
            values.withUnsafeBufferPointer { input in
                for i in 0..<input.count { raw.storeBytes(of: halfBits(input[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            }
            initialized = values.count * 2
        }
    }

    /// IEEE float to half with round-to-nearest-even, in integer arithmetic (F. Giesen's
    /// "fast3_rtne"): the same bits as `Float16(value)`, without the runtime's soft-float call.
    /// Every case is computed and one is selected, with no branch, so loops over it vectorize.
    @inline(__always)
    public static func halfBits(_ value: Float) -> UInt16 {
        let signed = value.bitPattern
        let sign = signed & 0x8000_0000
        let x = signed ^ sign
        // NaN keeps its top payload bits; anything else this large is infinity.
        let special: UInt32 = x > 0x7f80_0000 ? 0x7e00 | ((x >> 13) & 0x3ff) : 0x7c00
        // Subnormal or zero: let the FPU round the 10 mantissa bits into place.
        let magic: UInt32 = ((127 - 15) + (23 - 10) + 1) << 23
        let subnormal = (Float(bitPattern: x) + Float(bitPattern: magic)).bitPattern &- magic
        let normal = (x &+ (UInt32(bitPattern: Int32(15 - 127) << 23) &+ 0xfff) &+ ((x >> 13) & 1)) >> 13
        let out = x >= 0x4780_0000 ? special : (x < 0x3880_0000 ? subnormal : normal)
        return UInt16(truncatingIfNeeded: out | (sign >> 16))
    }

    /// Every half float's value, by bit pattern: decoding is one load per value instead of the
    /// runtime's soft-float conversion (256 KiB, built once).
    static let halfToFloat: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }

    /// Decodes `bytes`; throws when the count does not match `expectedCount` values.
    public static func decode(_ bytes: [UInt8], expectedCount: Int) throws -> [Float] {
        guard bytes.count == expectedCount * 2 else {
            throw ReelError(.artifact, "latents hold \(bytes.count) bytes, expected \(expectedCount * 2) (\(expectedCount) half floats)")
        }
        return [Float](unsafeUninitializedCapacity: expectedCount) { values, initialized in
            halfToFloat.withUnsafeBufferPointer { table in
                bytes.withUnsafeBufferPointer { input in
                    for i in 0..<expectedCount { values[i] = table[Int(UInt16(input[2 * i]) | UInt16(input[2 * i + 1]) << 8)] }
                }
            }
            initialized = expectedCount
        }
    }
}
