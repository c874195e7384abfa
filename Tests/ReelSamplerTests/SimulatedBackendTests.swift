import Foundation
import ReelCore
import Testing

@testable import ReelSampler

@Suite struct SimulatedBackendTests {
    let work = ChunkWork(
        backend: .simulated, prompt: "p", seed: 3, steps: 4, shift: 3, grid: LatentGrid(frames: 40, channels: 3, height: 32, width: 32),
        region: Region(frames: 8..<16, rows: 0..<32, columns: 16..<32))

    @Test func samplesItsDeterministicContentWhateverTheChunking() {
        let out = ChunkSampler.sample(work)
        #expect(out[0] == SimulatedDenoiser.content(frame: 8, channel: 0, y: 0, x: 16))
        let last = out.count - 1
        #expect(out[last] == SimulatedDenoiser.content(frame: 15, channel: 2, y: 31, x: 31))
        #expect(abs(out[5] - Float(0.6 * sin(0.05 * 21 + 0.1 * 8))) < 1e-6, "the pattern of the backend's definition")
        var other = work
        other.region = Region(frames: 12..<20, rows: 0..<32, columns: 16..<32)
        #expect(ChunkSampler.sample(other)[0] == out[4 * 3 * 32 * 16], "overlapping chunks agree exactly")
    }

    @Test func eachStepCostsItsSleep() {
        var slow = work
        slow.stepMilliseconds = 30
        var steps = 0
        let started = Date()
        _ = ChunkSampler.sample(slow, progress: { steps += 1 })
        #expect(Date().timeIntervalSince(started) >= 4 * 0.030, "four steps of at least 30 ms each")
        #expect(steps >= 4)
    }
}
