import ReelCore
import ReelPlan
import Testing

@testable import ReelStitch

@Suite struct StitcherTests {
    /// A smooth "true video" value per global voxel.
    static func truth(_ f: Int, _ c: Int, _ y: Int, _ x: Int) -> Float {
        Float(f) * 0.01 + Float(c) * 0.1 + Float(y) * 0.001 - Float(x) * 0.002
    }

    static func chunkLatents(_ chunk: Chunk, channels: Int, offset: (Chunk) -> Float = { _ in 0 }) -> [Float] {
        var out: [Float] = []
        for f in chunk.region.frames {
            for c in 0..<channels {
                for y in chunk.region.rows {
                    for x in chunk.region.columns {
                        out.append(truth(f, c, y, x) + offset(chunk))
                    }
                }
            }
        }
        return out
    }

    func plan(frames: Int = 100, tiles: Bool) -> Plan {
        let spec = JobSpec(
            name: "t", prompt: "p", seconds: Double(frames) / 10, fps: 10, width: 64, height: 48, seed: 1, chunkFrames: 24,
            overlap: 6, tileWidth: tiles ? 32 : 0, tileHeight: tiles ? 32 : 0, tileOverlap: 8, output: "o.mp4")
        return Planner.plan(spec)
    }

    @Test(arguments: [false, true])
    func agreeingChunksStitchToTheTruth(tiles: Bool) throws {
        let plan = plan(tiles: tiles)
        var emitted = 0
        try Stitcher(plan: plan).stitch(load: { Self.chunkLatents($0, channels: 3) }) { frame, latents in
            #expect(frame == emitted)
            emitted += 1
            for c in 0..<3 {
                for y in [0, 20, 47] {
                    for x in [0, 31, 63] {
                        #expect(abs(latents[(c * 48 + y) * 64 + x] - Self.truth(frame, c, y, x)) < 1e-5)
                    }
                }
            }
        }
        #expect(emitted == plan.grid.frames)
    }

    @Test func overlapsCrossFadeBetweenDisagreeingChunks() throws {
        let plan = plan(tiles: false)
        var values: [Float] = []
        try Stitcher(plan: plan).stitch(load: { Self.chunkLatents($0, channels: 3, offset: { Float($0.window % 2) }) }) { frame, latents in
            values.append(latents[0] - Self.truth(frame, 0, 0, 0))
        }
        let start = plan.windows[1].lowerBound, end = plan.windows[0].upperBound
        #expect(values[start - 1] == 0 && values[end] == 1, "each side of the overlap is its own chunk")
        for f in start..<(end - 1) { #expect(values[f] < values[f + 1], "monotone cross-fade at frame \(f)") }
    }

    @Test func memoryIsBoundedByTwoWindowsWhateverTheLength() throws {
        for frames in [100, 1000] {
            let plan = plan(frames: frames, tiles: true)
            var loads = 0
            let held = try Stitcher(plan: plan).stitch(load: {
                loads += 1; return Self.chunkLatents($0, channels: 3)
            }) { _, _ in }
            let perWindow = plan.tileRows.count * plan.tileColumns.count
            #expect(loads == plan.chunks.count, "each chunk loaded once")
            #expect(held <= 2 * perWindow, "\(frames) frames: held \(held) chunks")
        }
    }

    @Test func decoderMapsLatentRangeToBytes() {
        let rgb = FrameDecoder.rgb8([-1, 0, 1, 2, -1, 0], width: 2, height: 1)
        // planar R = [-1, 0], G = [1, 2], B = [-1, 0] → interleaved
        #expect(rgb == [0, 255, 0, 128, 255, 128])
    }
}
