import ReelCore
import ReelPlan

/// Samples one task with the backend its work names. A pure function of the work and its
/// conditioning: the same inputs give the same latents on any worker.
public enum ChunkSampler {
    /// Runs the sampler. `progress` is called often while work advances (setup and every
    /// Euler step): workers heartbeat from it, so a sampler that stops advancing goes silent.
    ///
    /// Pinned frames always get replacement conditioning; with the `native` method the
    /// backend also observes them in its posterior. A refine task starts from the
    /// conditioning's initial state re-noised with the global noise to its strength.
    public static func sample(_ work: ChunkWork, conditioning: Conditioning = .none, progress: () -> Void = {}) -> [Float] {
        switch work.backend {
        case .procedural:
            let world = ProceduralWorld(prompt: work.prompt, grid: work.grid)
            var denoiser = ProceduralDenoiser(world: world, region: work.region, frames: work.frames, progress: progress)
            if work.method == .native { denoiser.pinnedFrames = conditioning.pinned }
            let noise = NoiseField(seed: work.seed).fill(work.region, channels: work.grid.channels, frames: work.frames, progress: progress)
            return run(work, conditioning: conditioning, noise: noise, denoiser: &denoiser, progress: progress)
        case .simulated:
            // The same answer as the Euler path (the simulated prediction ignores the state), without its arithmetic.
            let times = FlowSchedule(steps: work.steps, shift: work.shift).times
            let start =
                work.refineStrength.flatMap { strength in
                    conditioning.initial.map { _ in times.firstIndex { $0 <= strength } ?? work.steps }
                } ?? 0
            return SimulatedDenoiser.sample(work, steps: work.steps - start, pinned: conditioning.pinned, progress: progress)
        }
    }

    static func run<D: Denoiser>(_ work: ChunkWork, conditioning: Conditioning, noise: [Float], denoiser: inout D, progress: () -> Void)
        -> [Float]
    {
        let sampler = EulerSampler(schedule: FlowSchedule(steps: work.steps, shift: work.shift))
        let perFrame = work.grid.channels * work.region.rows.count * work.region.columns.count
        var indices: [Int] = [], values: [Float] = []
        for frame in conditioning.pinned.keys.sorted() {
            indices += (frame * perFrame)..<((frame + 1) * perFrame)
            values += conditioning.pinned[frame]!
        }
        let pinned = PinnedVoxels(indices: indices, values: values)
        guard let strength = work.refineStrength, let initial = conditioning.initial else {
            return sampler.sample(noise: noise, denoiser: &denoiser, pinned: pinned, onStep: { _ in progress() })
        }
        let times = sampler.schedule.times
        let start = times.firstIndex { $0 <= strength } ?? work.steps
        let t = Float(times[start])
        let state = zip(initial, noise).map { (1 - t) * $0 + t * $1 }
        return sampler.sample(
            from: state, startIndex: start, noise: noise, denoiser: &denoiser, pinned: pinned, onStep: { _ in progress() })
    }
}
