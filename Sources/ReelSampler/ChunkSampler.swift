import ReelCore
import ReelPlan

/// Samples one chunk with the backend its work names. A pure function of the work: the same
/// work gives the same latents on any worker.
public enum ChunkSampler {
    /// Runs the sampler. `progress` is called often while work advances (setup and every
    /// Euler step): workers heartbeat from it, so a sampler that stops advancing goes silent.
    public static func sample(_ work: ChunkWork, progress: () -> Void = {}) -> [Float] {
        switch work.backend {
        case .procedural:
            let world = ProceduralWorld(prompt: work.prompt, grid: work.grid)
            var denoiser = ProceduralDenoiser(world: world, region: work.region, progress: progress)
            let noise = NoiseField(seed: work.seed).fill(work.region, channels: work.grid.channels, progress: progress)
            return EulerSampler(schedule: FlowSchedule(steps: work.steps, shift: work.shift))
                .sample(noise: noise, denoiser: &denoiser, onStep: { _ in progress() })
        }
    }
}
