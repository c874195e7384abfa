/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
/// a counter-based generator, so the random number at any counter is computed directly.
public enum Philox4x32 {
    @usableFromInline static let multiplier0: UInt32 = 0xD251_1F53
    @usableFromInline static let multiplier1: UInt32 = 0xCD9E_8D57
    @usableFromInline static let weyl0: UInt32 = 0x9E37_79B9
    @usableFromInline static let weyl1: UInt32 = 0xBB67_AE85

    /// Ten rounds of Philox on `counter` under `key`.
    @inlinable
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 { k &+= SIMD2(weyl0, weyl1) }
            let product0 = UInt64(multiplier0) &* UInt64(c[0])
            let product1 = UInt64(multiplier1) &* UInt64(c[2])
            let hi0 = UInt32(truncatingIfNeeded: product0 >> 32), lo0 = UInt32(truncatingIfNeeded: product0)
            let hi1 = UInt32(truncatingIfNeeded: product1 >> 32), lo1 = UInt32(truncatingIfNeeded: product1)
            c = SIMD4(hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0)
        }
        return c
    }
}
