import Testing

@testable import ReelCore

@Suite struct LatentCodecTests {
    @Test func integerHalfConversionMatchesTheRuntimeBitForBit() {
        let edges: [Float] = [
            0, -0, 1, -1, 0.5, 65504, 65519.99, 65520, 65536, -65520, 1e-8, 5.96e-8, 2.98e-8, 2.99e-8, 6.1e-5, 6.097e-5, 1.0009765,
            1.00048828125, 1.00146484375, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
        ]
        for value in edges { #expect(LatentCodec.halfBits(value) == Float16(value).bitPattern, "\(value)") }
        #expect(LatentCodec.halfBits(.nan) & 0x7e00 == 0x7e00, "NaN stays a quiet NaN")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var mismatches = 0
        for _ in 0..<1_000_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            if !value.isNaN && LatentCodec.halfBits(value) != Float16(value).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func decodingEveryHalfMatchesTheRuntimeBitForBit() throws {
        let patterns = (0...UInt16.max).map { $0 }
        let bytes = patterns.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        let decoded = try LatentCodec.decode(bytes, expectedCount: patterns.count)
        let mismatches = patterns.indices.filter { decoded[$0].bitPattern != Float(Float16(bitPattern: patterns[$0])).bitPattern }
        #expect(mismatches.isEmpty)
    }

    @Test func payloadChecksumIsWordWiseFNV1a() {
        let prime: UInt64 = 0x100_0000_01b3, offset: UInt64 = 0xcbf2_9ce4_8422_2325
        let word: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(Checksum.payload(word) == (offset ^ 0x0807_0605_0403_0201) &* prime)
        #expect(Checksum.payload(word + [9]) == (((offset ^ 0x0807_0605_0403_0201) &* prime) ^ 9) &* prime, "tail bytes one by one")
        #expect(Checksum.payload([7, 7]) == Checksum.fnv1a([7, 7]), "under 8 bytes it is plain FNV-1a")
        #expect(Checksum.payload(word) != Checksum.payload(word.reversed()))
    }
}
