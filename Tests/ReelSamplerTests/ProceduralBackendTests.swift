import ReelCore
import ReelPlan
import Testing

@testable import ReelSampler

@Suite struct ProceduralBackendTests {
    let grid = LatentGrid(frames: 96, channels: 3, height: 48, width: 96)
    var world: ProceduralWorld { ProceduralWorld(prompt: "three kites over hills", grid: grid) }
    let region = Region(frames: 10..<46, rows: 0..<48, columns: 0..<96)

    func truth(take: Int) -> WorldState {
        // A walk that moves every segment: 0,1,2,...,5,4,3...
        let paths = (0..<3).map { lane in
            (0..<world.boundaryCount).map { b in
                let p = (b + lane) % 10; return p < 6 ? p : 10 - p
            }
        }
        return WorldState(take: take, paths: paths)
    }

    @Test func oracleReadsTheTruthFromACleanVideo() {
        let state = truth(take: 2)
        let denoiser = ProceduralDenoiser(world: world, region: region)
        let video = denoiser.render(state)
        let reading = ProceduralOracle(world: world).read(video, region: region)
        #expect(reading.take == 2 && reading.takeConfidence > 0.999)
        #expect(reading.firstBoundary == 0)
        for lane in 0..<3 { #expect(reading.paths[lane] == Array(state.paths[lane][0..<reading.paths[lane].count])) }
    }

    @Test func posteriorMeanAtLowNoiseIsTheCleanVideo() {
        let state = truth(take: 1)
        var denoiser = ProceduralDenoiser(world: world, region: region)
        let clean = denoiser.render(state)
        let noise = NoiseField(seed: 3).fill(region, channels: 3)
        let t = 0.05
        let noisy = zip(clean, noise).map { Float(1 - t) * $0 + Float(t) * $1 }
        var prediction = [Float](repeating: 0, count: clean.count)
        denoiser.predictClean(noisy, t: t, into: &prediction)
        let worst = zip(prediction, clean).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3)
    }

    @Test func samplingFromAPartlyNoisedTruthRecoversIt() {
        // At t = 0.6 the signal leaves no ambiguity: the sampler must return the true video.
        // (The region is aligned to segments, so every boundary it depends on is well seen.)
        let state = truth(take: 3)
        let region = Region(frames: 12..<48, rows: 0..<48, columns: 0..<96)
        var denoiser = ProceduralDenoiser(world: world, region: region)
        let clean = denoiser.render(state)
        let noise = NoiseField(seed: 11).fill(region, channels: 3)
        let sampler = EulerSampler(schedule: FlowSchedule(steps: 10, shift: 1))
        let start = 4  // times[4] = 0.6
        let t = sampler.schedule.times[start]
        let noisy = zip(clean, noise).map { Float(1 - t) * $0 + Float(t) * $1 }
        let out = sampler.sample(from: noisy, startIndex: start, noise: noise, denoiser: &denoiser)
        let reading = ProceduralOracle(world: world).read(out, region: region)
        #expect(reading.take == 3)
        #expect(zip(out, clean).map { abs($0 - $1) }.max()! < 1e-3)
    }

    @Test func samplesAreCleanMovingVideosOfTheWorldAndTakesVary() {
        var takes = Set<Int>()
        let small = Region(frames: 0..<24, rows: 0..<48, columns: 0..<96)
        for seed in 0..<8 as Range<UInt64> {
            var denoiser = ProceduralDenoiser(world: world, region: small)
            let out = EulerSampler(schedule: FlowSchedule(steps: 10, shift: 3))
                .sample(noise: NoiseField(seed: seed).fill(small, channels: 3), denoiser: &denoiser)
            let reading = ProceduralOracle(world: world).read(out, region: small)
            takes.insert(reading.take)
            // The sample is exactly a video of the world: rendering the oracle's reading reproduces it.
            let paths = reading.paths.map { $0 + [Int](repeating: $0.last!, count: world.boundaryCount) }
            let rendered = denoiser.render(WorldState(take: reading.take, paths: paths))
            #expect(zip(out, rendered).map { abs($0 - $1) }.max()! < 1e-3, "seed \(seed) is a clean world video")
            // Moving shapes, not noise: consecutive frames differ a little, not a lot.
            let frame = 3 * 48 * 96
            let motion = (0..<frame).map { abs(out[$0 + 5 * frame] - out[$0 + 6 * frame]) }.reduce(0, +) / Float(frame)
            #expect(motion > 0 && motion < 0.1, "mean frame difference \(motion)")
        }
        #expect(takes.count >= 2, "independent samples choose different takes: \(takes)")
    }

    @Test func worldsDependOnThePromptOnly() {
        let a = ProceduralWorld(prompt: "x", grid: grid), b = ProceduralWorld(prompt: "x", grid: grid)
        let c = ProceduralWorld(prompt: "y", grid: grid)
        #expect(a.sky == b.sky && a.spriteColor == b.spriteColor)
        #expect(a.sky != c.sky)
    }
}
