import ReelCore
import Testing

@testable import ReelPlan

@Suite struct NoiseFieldTests {
    /// Known-answer vectors of Random123's philox4x32-10.
    @Test func philoxKnownAnswers() {
        #expect(
            Philox4x32.block(counter: SIMD4(0, 0, 0, 0), key: SIMD2(0, 0))
                == SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        #expect(
            Philox4x32.block(counter: SIMD4(repeating: 0xffff_ffff), key: SIMD2(repeating: 0xffff_ffff))
                == SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
        #expect(
            Philox4x32.block(counter: SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: SIMD2(0xa409_3822, 0x299f_31d0))
                == SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    /// Pinned values of the noise field itself, so any backend in any language can check itself.
    @Test func noiseVectors() {
        let field = NoiseField(seed: 42)
        let expected: [(Int, Int, Int, Int, Float)] = NoiseVectors.seed42
        for (frame, channel, y, x, value) in expected {
            #expect(field.value(frame: frame, channel: channel, y: y, x: x) == value, "ε(42, \(frame), \(channel), \(y), \(x))")
        }
    }

    @Test func regionFillMatchesPointwiseAndIsChunkingIndependent() {
        let field = NoiseField(seed: 9)
        let a = Region(frames: 3..<7, rows: 2..<10, columns: 5..<9)
        let b = Region(frames: 5..<9, rows: 0..<12, columns: 5..<9)
        let va = field.fill(a, channels: 3), vb = field.fill(b, channels: 3)
        // The shared voxel (frame 6, channel 2, y 4, x 7) is the same in both regions.
        let ia = (((6 - 3) * 3 + 2) * 8 + (4 - 2)) * 4 + (7 - 5)
        let ib = (((6 - 5) * 3 + 2) * 12 + 4) * 4 + (7 - 5)
        #expect(va[ia] == vb[ib])
        #expect(va[ia] == field.value(frame: 6, channel: 2, y: 4, x: 7))
    }

    @Test func noiseIsStandardNormal() {
        let values = NoiseField(seed: 1).fill(Region(frames: 0..<8, rows: 0..<64, columns: 0..<64), channels: 3)
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.02)
        #expect(NoiseField(seed: 2).value(frame: 0, channel: 0, y: 0, x: 0) != NoiseField(seed: 1).value(frame: 0, channel: 0, y: 0, x: 0))
    }
}
